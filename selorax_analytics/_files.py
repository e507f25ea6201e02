"""Files written for a user: never over an existing one unless asked, never half-written.

Every writer of the package that a user points at a path (segment exports and their manifests,
the command line's ``--out`` tables, the report's pages) goes through :func:`write_file`, so one
rule holds everywhere:

- an existing path is refused with :class:`~selorax_analytics.exceptions.OutputExistsError`
  unless ``overwrite`` is true (``--overwrite`` on the command line);
- the content goes to a temporary file in the target's folder, is flushed to disk, and is then
  moved into place in one step; on any failure (an exception, Ctrl-C) the temporary file is
  removed and the target is left as it was;
- the file is readable by its owner only (mode ``0600``, as the cache): exports and reports hold
  customers' names, phones and e-mails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from selorax_analytics.exceptions import OutputExistsError

#: Permissions of every file written: owner read and write only.
FILE_MODE = 0o600

Content = bytes | Callable[[Path], object]


def exists_message(path: Path) -> str:
    """The one-line refusal for an existing ``path``."""
    return (
        f"Refusing to overwrite {str(path)!r}: it exists. Pass --overwrite (overwrite=True in "
        "Python) to replace it, or choose another path."
    )


def refuse_existing(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` for the first of ``paths`` that exists (unless ``overwrite``).

    A folder where a file should go is refused even with ``overwrite``: it is never replaced.
    """
    for path in paths:
        if path.is_dir():
            raise OutputExistsError(
                f"{str(path)!r} is a folder; name a file to write (the folder is never replaced).",
                path=str(path),
            )
        if not overwrite and (path.exists() or path.is_symlink()):
            raise OutputExistsError(exists_message(path), path=str(path))


def write_file(
    path: str | os.PathLike[str],
    content: Content,
    *,
    overwrite: bool,
    mode: int = FILE_MODE,
) -> Path:
    """Write ``content`` to ``path`` atomically; the folder is created if needed.

    Parameters
    ----------
    path
        The file to write.
    content
        The bytes, or a function that writes the file at the path it is given (a temporary
        file next to ``path``).
    overwrite
        Replace an existing file. Without it an existing file is refused, also when it
        appears while the content is being written.
    mode
        Permissions of the file (default ``0600``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false, or ``path`` is a folder.
    OSError
        The folder cannot be made or written; nothing is left behind.
    """
    target = Path(path)
    refuse_existing([target], overwrite=overwrite)
    _make_folder(target)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        if callable(content):
            os.close(handle)
            content(tmp)
        else:
            with os.fdopen(handle, "wb") as f:
                f.write(content)
        os.chmod(tmp, mode)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        _move_into_place(tmp, target, overwrite=overwrite)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return target


def _make_folder(target: Path) -> None:
    """The folder of ``target`` and its missing parents; a file in the way is named."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocking is None:
            raise
        raise OutputExistsError(
            f"Cannot write {str(target)!r}: {str(blocking)!r} is a file, not a folder.",
            path=str(blocking),
        ) from None


def _move_into_place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target exists: no window for a race to clobber it
    except FileExistsError:
        raise OutputExistsError(exists_message(target), path=str(target)) from None
    except OSError:  # a file system without hard links
        refuse_existing([target], overwrite=False)
        os.replace(tmp, target)
