"""The HTML report built from the notebooks."""
