"""Files written for a user: refused if present, replaced only when asked, whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from selorax_analytics import OutputExistsError, SeloraxError
from selorax_analytics._files import write_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_written_owner_only_in_a_new_folder(tmp_path):
    target = tmp_path / "a" / "b" / "out.csv"
    assert write_file(target, b"x,y\n", overwrite=False) == target
    assert target.read_bytes() == b"x,y\n"
    assert mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_an_existing_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError) as info:
        write_file(target, b"new", overwrite=False)
    error = info.value
    assert isinstance(error, SeloraxError) and isinstance(error, FileExistsError)
    assert error.path == str(target)
    assert repr(str(target)) in str(error) and "--overwrite" in str(error)
    assert len(str(error).splitlines()) == 1
    assert target.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_overwrite_replaces_and_sets_the_mode(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_file(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new" and mode(target) == 0o600


def test_a_folder_is_never_replaced(tmp_path):
    folder = tmp_path / "out.csv"
    folder.mkdir()
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match="is a folder"):
            write_file(folder, b"x", overwrite=overwrite)
    assert folder.is_dir() and not any(folder.iterdir())


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("error", [Interrupted, KeyboardInterrupt])
@pytest.mark.parametrize("existing", [None, b"the earlier file"])
def test_an_interrupted_write_leaves_the_target_as_it_was(tmp_path, error, existing):
    target = tmp_path / "out.csv"
    if existing is not None:
        target.write_bytes(existing)

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"user_id,name\n1,Ra")  # half a file on disk...
        raise error  # ...then the writer dies

    with pytest.raises(error):
        write_file(target, half_then_fail, overwrite=True)
    if existing is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == existing
    assert [p.name for p in tmp_path.iterdir()] == ([] if existing is None else ["out.csv"])


def test_a_file_appearing_during_the_write_is_not_clobbered(tmp_path):
    target = tmp_path / "out.csv"

    def someone_else_writes_first(tmp: Path) -> None:
        tmp.write_bytes(b"ours")
        target.write_bytes(b"theirs")

    with pytest.raises(OutputExistsError):
        write_file(target, someone_else_writes_first, overwrite=False)
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_file_in_the_way_of_the_folder_is_named(tmp_path):
    (tmp_path / "r.csv").write_text("a file", encoding="utf-8")
    with pytest.raises(OutputExistsError, match=r"'.*r\.csv' is a file, not a folder"):
        write_file(tmp_path / "r.csv" / "deeper" / "x.csv", b"x", overwrite=True)
    assert (tmp_path / "r.csv").read_text(encoding="utf-8") == "a file"
