"""Session set-up for the notebooks, which ``pytest`` re-executes with nbval.

Notebook kernels do not see pytest fixtures. When nbval is on, ``pytest_sessionstart`` serves the
demo store from a sandbox in this process and points ``SELORAX_BASE_URL`` and ``SELORAX_TOKEN``
(and a fresh ``SELORAX_CACHE_DIR``) at it through ``os.environ``, which every kernel inherits;
other ``SELORAX_*`` store settings are removed for the session. ``pytest_sessionfinish`` stops
the sandbox and puts the environment back. Unit tests are unaffected: ``tests/conftest.py``
clears ``SELORAX_*`` around each test.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

_STACK = contextlib.ExitStack()
_SAVED: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """The sanitize file in ``addopts`` is relative to the repository, wherever pytest starts."""
    sanitize = getattr(config.option, "nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).is_absolute() and not Path(sanitize).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)


def _runs_notebooks(config: pytest.Config) -> bool:
    """nbval is on and the paths to test (testpaths when none are given) reach a notebook."""
    if not (
        config.getoption("nbval", default=False) or config.getoption("nbval_lax", default=False)
    ):
        return False
    paths = [Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args]
    return any(p == NOTEBOOKS or NOTEBOOKS in p.parents or p in NOTEBOOKS.parents for p in paths)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _runs_notebooks(session.config):
        return
    from selorax_analytics.connection import demo_environment
    from selorax_analytics.report._notebooks import STORE_VARIABLES

    store = _STACK.enter_context(demo_environment())
    for name in (*STORE_VARIABLES, "SELORAX_CACHE_DIR"):
        _SAVED[name] = os.environ.pop(name, None)
    os.environ.update(store)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _SAVED.clear()
    _STACK.close()
