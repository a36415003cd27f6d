import os

import pytest

from parsc_geo._atomic import atomic_path, file_mode, write_text_atomic
from parsc_geo._errors import OutputError


def test_write_replace_and_refuse(tmp_path):
    target = tmp_path / "sub" / "a.csv"
    write_text_atomic(target, "uno\n")
    assert target.read_text() == "uno\n"
    with pytest.raises(OutputError, match="ya existe"):
        write_text_atomic(target, "dos\n")
    assert target.read_text() == "uno\n"
    write_text_atomic(target, "dos\n", overwrite=True)
    assert target.read_text() == "dos\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]


def test_failure_leaves_the_output_and_no_temporary_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("antes")
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("a medias")
        raise RuntimeError("disco lleno")
    assert target.read_text() == "antes"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert file_mode() == 0o640
        path = write_text_atomic(tmp_path / "m.html", "x")
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
