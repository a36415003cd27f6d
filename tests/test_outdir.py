"""Output folders only lose what parsc-geo wrote into them (issue 11), and a killed swap is
restored on the next start (issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from parsc_geo import _outdir
from parsc_geo._atomic import temp_name
from parsc_geo._errors import OutputError
from parsc_geo._outdir import MANIFEST, read_manifest, staged_output


def fill(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_run(output: Path, files: dict[str, str], *, overwrite: bool = True) -> None:
    with staged_output(output, overwrite=overwrite) as staging:
        fill(staging, files)


OLD = {"run.json": "{}", "mapas/index.html": "viejo", "mapas/lib/leaflet.js": "js", "a.csv": "1"}
NEW = {"run.json": "{}", "mapas/index.html": "nuevo", "b.csv": "2"}


def test_overwrite_removes_only_what_parsc_geo_wrote(tmp_path):
    out = tmp_path / "out"
    write_run(out, OLD, overwrite=False)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"] == sorted(OLD)
    assert manifest["dirs"] == ["mapas", "mapas/lib"]
    fill(out, {"mis_notas.txt": "no tocar", "mapas/mi_capa.geojson": "{}"})

    write_run(out, NEW)

    got = tree(out)
    got.pop(MANIFEST)
    # the old a.csv and mapas/lib are gone (parsc-geo wrote them); the user's files stay
    assert got == {**NEW, "mis_notas.txt": "no tocar", "mapas/mi_capa.geojson": "{}"}
    assert not (out / "mapas" / "lib").exists()
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"] == sorted(NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging, swap or lock


def test_a_foreign_folder_is_refused_even_with_overwrite(tmp_path):
    out = tmp_path / "datos"
    fill(out, {"informe_final.docx": "meses de trabajo"})
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="no es una salida de parsc-geo") as err:
            write_run(out, NEW, overwrite=overwrite)
        assert err.value.exit_code == 5
        assert "--overwrite" in str(err.value)
    assert tree(out) == {"informe_final.docx": "meses de trabajo"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datos"]


def test_existing_output_needs_overwrite_and_an_empty_folder_is_used(tmp_path):
    out = tmp_path / "out"
    write_run(out, OLD)
    with pytest.raises(OutputError, match="existe y no está vacía"):
        write_run(out, NEW, overwrite=False)
    empty = tmp_path / "vacia"
    empty.mkdir()
    write_run(empty, NEW, overwrite=False)
    assert set(tree(empty)) == {*NEW, MANIFEST}


def test_an_output_of_an_earlier_version_is_recognised_by_its_run_json(tmp_path):
    out = tmp_path / "out"
    legacy = {"mapas/index.html": "viejo", "ingesta/report.json": "{}"}
    fill(out, legacy)
    run_json = {"parsc_geo_version": "0.1.0", "outputs": [*sorted(legacy), "run.json"]}
    (out / "run.json").write_text(json.dumps(run_json), encoding="utf-8")
    fill(out, {"notas.txt": "mías"})
    assert read_manifest(out) == {
        "files": ["ingesta/report.json", "mapas/index.html", "run.json"],
        "dirs": ["ingesta", "mapas"],
    }
    write_run(out, NEW)
    got = tree(out)
    got.pop(MANIFEST)
    assert got == {**NEW, "notas.txt": "mías"}
    assert not (out / "ingesta").exists()


def test_a_manifest_cannot_make_parsc_geo_delete_outside_the_folder(tmp_path):
    out = tmp_path / "out"
    victim = tmp_path / "victima.txt"
    victim.write_text("fuera", encoding="utf-8")
    fill(out, {"a.csv": "1"})
    hostile = {"generator": "parsc-geo", "files": ["a.csv", "../victima.txt", str(victim)]}
    (out / MANIFEST).write_text(json.dumps(hostile), encoding="utf-8")
    write_run(out, NEW)
    assert victim.read_text(encoding="utf-8") == "fuera"
    assert set(tree(out)) == {*NEW, MANIFEST}


def test_a_user_file_where_a_new_output_goes_stops_before_anything_moves(tmp_path):
    out = tmp_path / "out"
    write_run(out, OLD)
    fill(out, {"b.csv": "del usuario"})
    before = tree(out)
    with pytest.raises(OutputError, match=r"b\.csv"):
        write_run(out, NEW)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_error_during_the_swap_puts_the_previous_output_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_run(out, OLD)
    fill(out, {"notas.txt": "mías"})
    before = tree(out)
    real_move = _outdir._move
    calls = {"n": 0}

    def failing(src: Path, dst: Path) -> None:
        calls["n"] += 1
        if calls["n"] == len(OLD) + 3:  # every old file moved out, two new ones moved in
            raise OSError(28, "No space left on device")
        real_move(src, dst)

    monkeypatch.setattr(_outdir, "_move", failing)
    with pytest.raises(OSError):
        write_run(out, NEW)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


KILLER = """
import os, signal, sys
from pathlib import Path
from parsc_geo import _outdir

out, after = Path(sys.argv[1]), int(sys.argv[2])
real_move, calls = _outdir._move, [0]

def move(src, dst):
    calls[0] += 1
    if calls[0] > after:
        os.kill(os.getpid(), signal.SIGKILL)  # a real death in the middle of the swap
    real_move(src, dst)

_outdir._move = move
with _outdir.staged_output(out, overwrite=True) as staging:
    for rel, text in {"run.json": "{}", "mapas/index.html": "nuevo", "b.csv": "2"}.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(text)
"""


@pytest.mark.parametrize("moves", [0, 2, len(OLD) + 1, len(OLD) + 2, len(OLD) + 3])
def test_a_kill_in_the_middle_of_the_swap_is_undone_on_the_next_start(
    tmp_path, tmp_path_factory, moves
):
    out = tmp_path / "out"
    write_run(out, OLD)
    fill(out, {"notas.txt": "mías"})
    before = tree(out)
    script = tmp_path_factory.mktemp("scripts") / "killer.py"
    script.write_text(textwrap.dedent(KILLER), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(out), str(moves)], check=False)
    assert proc.returncode == -9
    # what the kill left: a swap folder (and a staging folder) beside the output
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert any(name.startswith(_outdir.SWAP_PREFIX) for name in left), left
    # the next start restores the previous output and removes every leftover
    write_run(tmp_path / "otra", {"x.txt": "x"})  # another output: does not touch this one
    assert any(p.name.startswith(_outdir.SWAP_PREFIX) for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="existe y no está vacía"):
        write_run(out, NEW, overwrite=False)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["otra", "out"]


def test_temporaries_of_a_live_process_are_kept(tmp_path):
    out = tmp_path / "out"
    mine = tmp_path / temp_name(".partial")  # this process is alive: provably not stale
    mine.mkdir()
    dead = tmp_path / ".parsc-tmp-999999999-1-0123abcd.partial"  # no such process
    dead.mkdir()
    (dead / "run.json").write_text("{}")
    user = tmp_path / ".parsc-tmp-notas"  # not one of our names
    user.write_text("x")
    write_run(out, NEW)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["out", mine.name, user.name])


def test_an_output_given_as_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real"
    write_run(real, OLD)
    link = tmp_path / "enlace"
    os.symlink(real, link)
    write_run(link, NEW)
    assert link.is_symlink()
    assert set(tree(real)) == {*NEW, MANIFEST}


def test_a_name_over_255_bytes_is_a_clear_output_error(tmp_path):
    with pytest.raises(OutputError, match="tiene 300 bytes") as err:
        write_run(tmp_path / ("ñ" * 150), NEW)
    assert err.value.exit_code == 5
