"""The public names: every error of the tree is reachable as ``sa.<Name>`` and drawn in the README."""

from __future__ import annotations

import inspect
from pathlib import Path

import selorax_analytics as sa
from selorax_analytics import exceptions

ERRORS = sorted(
    name
    for name, value in vars(exceptions).items()
    if inspect.isclass(value) and issubclass(value, exceptions.SeloraxError)
)


def test_every_error_is_a_public_name():
    missing = [name for name in ERRORS if getattr(sa, name, None) is not getattr(exceptions, name)]
    assert missing == []
    assert set(ERRORS) <= set(sa.__all__)


def test_the_readme_draws_every_error():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    tree = readme.split("SeloraxError\n", 1)[1].split("```", 1)[0]
    assert [name for name in ERRORS if name != "SeloraxError" and name not in tree] == []


def test_style_is_the_table_helper():
    from selorax_analytics.presentation import tables

    assert sa.style is tables.style
    assert "style" in sa.__all__
