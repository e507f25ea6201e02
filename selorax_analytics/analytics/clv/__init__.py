"""Customer lifetime value: BG/NBD and Gamma-Gamma models and their summaries."""
