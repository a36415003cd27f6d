import os

import pytest

from parsc_geo._atomic import (
    atomic_path,
    file_mode,
    owner_alive,
    owner_tag,
    remove_stale_temporaries,
    stale_temporaries,
    temp_name,
    write_text_atomic,
)
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


def test_a_symlinked_output_is_written_through(tmp_path):
    real = tmp_path / "datos" / "tabla.csv"
    real.parent.mkdir()
    real.write_text("antes")
    link = tmp_path / "tabla.csv"
    os.symlink(real, link)
    write_text_atomic(link, "después", overwrite=True)
    assert link.is_symlink() and real.read_text() == "después"


def test_temporaries_do_not_repeat_the_name_so_long_names_fit(tmp_path):
    name = "n" * 250 + ".csv"  # 254 bytes: a legal name
    write_text_atomic(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x"
    with pytest.raises(OutputError, match="tiene 260 bytes"):
        write_text_atomic(tmp_path / ("n" * 256 + ".csv"), "x")


def test_only_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / ".parsc-tmp-999999999-1-0123abcd.csv"
    dead.write_text("a medias")
    dead_dir = tmp_path / ".parsc-tmp-999999999-1-89abcdef.partial"
    (dead_dir / "mapas").mkdir(parents=True)
    alive = tmp_path / temp_name(".csv")  # this process
    alive.write_text("en curso")
    lookalike = tmp_path / ".parsc-tmp-mio.csv"
    lookalike.write_text("del usuario")
    assert stale_temporaries(tmp_path) == sorted([dead, dead_dir])
    assert remove_stale_temporaries(tmp_path) == sorted([dead, dead_dir])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, lookalike.name])


def test_a_recycled_process_id_is_not_its_former_owner(tmp_path):
    pid, start = owner_tag().split("-")
    assert owner_alive(int(pid), start)
    assert not owner_alive(int(pid), str(int(start) + 1))  # same pid, other start: dead
    assert not owner_alive(999999999, "1")
