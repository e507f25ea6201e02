"""Files only their owner can read: private folders, atomic writes, and folders in a file's way.

Every file the cache writes holds store data (customer names and phones in the journal), so
files are created ``0600`` and the folders made for them ``0700``, whatever the umask. Folders
that already exist (a cache root the user chose) are left as they are.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from selorax_analytics._files import write_file
from selorax_analytics.exceptions import CacheError

PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents with mode ``0700`` (existing ones untouched)."""
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=PRIVATE_FOLDER_MODE)
            os.chmod(path, PRIVATE_FOLDER_MODE)  # mkdir's mode is cut by the umask


def atomic_write(path: Path, data: bytes | Callable[[Path], object]) -> None:
    """Write ``path`` (mode ``0600``) in a private folder, replacing what is there.

    ``data`` is the bytes, or a function that writes the file at the temporary path it is given;
    the write itself is :func:`selorax_analytics._files.write_file`'s (a temporary file in the
    same folder and a rename: a reader never sees half a file).
    """
    make_private_folder(path.parent)
    write_file(path, data, overwrite=True, mode=PRIVATE_FILE_MODE)


def clear_way(path: Path) -> Path | None:
    """Make room for a file at ``path`` where a folder sits; where that folder went, if kept.

    An empty folder is removed. A folder with anything in it is never deleted (it may hold
    something of the user's): it is renamed aside to ``<name>.corrupt-<UTC time>-<n>`` and that
    path is returned. Anything else (no entry, a file, a link) is left alone.
    """
    if path.is_symlink() or not path.is_dir():
        return None
    try:
        path.rmdir()
        return None
    except FileNotFoundError:
        return None  # another load cleared it meanwhile
    except OSError:
        pass  # not empty: keep it, out of the way
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}-{uuid.uuid4().hex[:6]}")
    try:
        path.rename(aside)
    except FileNotFoundError:
        return None
    return aside


def discard_file(path: Path) -> Path | None:
    """Remove the file at ``path`` (if any); a folder there is cleared as :func:`clear_way` does."""
    if path.is_dir() and not path.is_symlink():
        return clear_way(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return None


def unwritable(where: Path, exc: OSError) -> CacheError:
    """The error for a cache folder that cannot be written (disk full, permissions, a file in
    the way of a folder)."""
    return CacheError(
        f"The cache in {where} cannot be written ({exc.strerror or type(exc).__name__}); "
        "free disk space or fix the folder's permissions, or load with cache=False."
    )
