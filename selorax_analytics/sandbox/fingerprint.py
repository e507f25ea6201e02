"""A short fingerprint of the demo store's data, so a cache of other demo data is never read as it.

The embedded demo store is not shipped as data files: the sandbox generates it when it starts,
from the seeded generator in this folder (``generator``, ``refusals``, ``contacts``, ``money``,
``names``) and serves it through ``db`` and ``api``. Its data are therefore fixed by the source
of this folder and by the numpy and pandas releases that draw and shape them (numpy does not
promise the same random streams across releases). The fingerprint is a sha256 over those: every
``*.py`` file of the folder (name and bytes) and the two versions. Generating the store to hash
it would take seconds; reading about 150 KB of source takes about a millisecond, once per process.

Any change to the folder changes the fingerprint, also one that leaves the data alone (a fault
injector, the server): the price is one load from the demo sandbox, never stale data.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

#: The folder whose sources generate and serve the demo store.
DEMO_SOURCES = Path(__file__).resolve().parent
#: Hex digits kept: enough to tell demo releases apart in a folder name.
FINGERPRINT_LENGTH = 12


def demo_data_fingerprint() -> str:
    """The fingerprint of the demo data this installation serves (``FINGERPRINT_LENGTH`` hex).

    Returns
    -------
    str
        The same for the same sources and numpy/pandas releases; computed once per process.
    """
    return _fingerprint(DEMO_SOURCES, np.__version__, pd.__version__)


@functools.cache
def _fingerprint(folder: Path, numpy_version: str, pandas_version: str) -> str:
    digest = hashlib.sha256(f"numpy {numpy_version}\npandas {pandas_version}\n".encode())
    for source in sorted(folder.glob("*.py")):
        digest.update(f"\n{source.name}\n".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:FINGERPRINT_LENGTH]
