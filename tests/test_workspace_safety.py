"""The workspace never loses or destroys anything (issue 13): concurrent imports, readers
during a write, symbolic links, files that are not workspaces, long names, leftovers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from parsc_geo import _lock
from parsc_geo._atomic import temp_name
from parsc_geo._errors import OutputError
from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths
from parsc_geo.workspace import Workspace

ROWS = 1500


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Two real-format files of 1,500 distinct sample incidents each, and a small one."""
    folder = tmp_path_factory.mktemp("inputs")
    sample = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    sample.iloc[:ROWS].to_csv(folder / "a.csv", index=False)
    sample.iloc[ROWS : 2 * ROWS].to_csv(folder / "b.csv", index=False)
    sample.iloc[2 * ROWS : 2 * ROWS + 40].to_csv(folder / "c.csv", index=False)
    return folder


def ingest_process(csv: Path, ws: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "parsc_geo", "-q", "ingest", str(csv), "-w", str(ws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def counts(ws: Path) -> tuple[int, int]:
    layers = {str(n) for n, _ in pyogrio.list_layers(ws)}
    n = pyogrio.read_info(ws, layer="incidents")["features"] if "incidents" in layers else 0
    return int(n), int(pyogrio.read_info(ws, layer="imports")["features"])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_two_concurrent_imports_keep_every_row(inputs, tmp_path):
    ws = tmp_path / "ws.gpkg"
    first = ingest_process(inputs / "a.csv", ws)
    second = ingest_process(inputs / "b.csv", ws)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    # 1,500 + 1,500 distinct incidents: none lost, both files logged
    assert counts(ws) == (2 * ROWS, 2)
    ids = Workspace(ws).read_incidents()["incident_id"]
    assert ids.is_unique and len(ids) == 2 * ROWS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.gpkg"]


@pytest.mark.slow
def test_a_reader_during_a_write_sees_the_old_or_the_new_state(inputs, tmp_path):
    ws = tmp_path / "ws.gpkg"
    CliRunner().invoke(cli, ["-q", "ingest", str(inputs / "c.csv"), "-w", str(ws)])
    old = len(Workspace(ws).read_incidents())
    writer = ingest_process(inputs / "a.csv", ws)
    seen = set()
    reader = Workspace(ws)
    while writer.poll() is None:
        incidents = reader.read_incidents()
        described = reader.describe()
        seen.add(len(incidents))
        assert described["layers"]["incidents"] in (old, old + ROWS)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    seen.add(len(reader.read_incidents()))
    assert seen <= {old, old + ROWS} and old + ROWS in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.gpkg"]


def test_a_second_writer_waits_then_gives_up_with_a_clear_error(tmp_path, monkeypatch):
    ws = tmp_path / "ws.gpkg"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from parsc_geo._lock import try_lock; "
            f"assert try_lock({str(ws)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        monkeypatch.setenv("PARSC_GEO_LOCK_TIMEOUT", "0.5")
        t0 = time.monotonic()
        with pytest.raises(OutputError, match="en uso por otro proceso") as err:
            Workspace(ws).set_metadata(x=1)
        assert time.monotonic() - t0 >= 0.5
        assert err.value.exit_code == 5
        assert f"pid {holder.pid}" in str(err.value)
        assert not ws.exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder died (kill -9 semantics): the kernel released its lock, the next writer works
    Workspace(ws).set_metadata(x=2)
    assert Workspace(ws).metadata() == {"x": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.gpkg"]


def test_the_lock_is_reentrant_and_removed_on_release(tmp_path):
    target = tmp_path / "ws.gpkg"
    with _lock.exclusive(target, what="x"), _lock.exclusive(target, what="x"):
        assert _lock.lock_path(target).exists()
    assert not _lock.lock_path(target).exists()


def test_a_symlinked_workspace_is_written_through(inputs, tmp_path):
    real = tmp_path / "datos" / "real.gpkg"
    real.parent.mkdir()
    link = tmp_path / "ws.gpkg"
    os.symlink(real, link)  # dangling: the first import creates the target
    runner = CliRunner()
    for name in ("c.csv", "a.csv"):
        result = runner.invoke(cli, ["-q", "ingest", str(inputs / name), "-w", str(link)])
        assert result.exit_code == 0, result.output
        assert link.is_symlink() and os.readlink(link) == str(real)
    assert counts(real) == (40 + ROWS, 2)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("vacio.gpkg", b""),
        ("datos.csv", b"id,fecha,latitud,longitud\n1,2020-01-01,-7.1,-78.5\n"),
        ("truncado.gpkg", None),
    ],
)
def test_a_workspace_that_is_not_one_is_refused_and_left_untouched(inputs, tmp_path, name, content):
    path = tmp_path / name
    if content is None:  # the first 8 KiB of a real workspace
        good = tmp_path / "bueno.gpkg"
        CliRunner().invoke(cli, ["-q", "ingest", str(inputs / "c.csv"), "-w", str(good)])
        path.write_bytes(good.read_bytes()[:8192])
        good.unlink()
    else:
        path.write_bytes(content)
    before = sha(path)
    runner = CliRunner()
    checks = [
        (["ingest", str(inputs / "c.csv"), "-w", str(path)], 5),
        (["map", "-w", str(path), "-o", str(tmp_path / "mapas")], 3),
        (["patrol", "-w", str(path), "-o", str(tmp_path / "patrullaje")], 3),
    ]
    if name.endswith(".gpkg"):
        checks.append((["info", str(path)], 3))
    for args, code in checks:
        result = runner.invoke(cli, args)
        assert result.exit_code == code, (args, result.output)
        assert "Error interno" not in result.output and "Traceback" not in result.output
        assert str(path.name) in result.output
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_names_over_255_bytes_are_clear_output_errors(inputs, tmp_path):
    runner = CliRunner()
    long_name = "informe_" + "x" * 250
    cases = [
        ["ingest", str(inputs / "c.csv"), "-w", str(tmp_path / f"{long_name}.gpkg")],
        [
            "ingest",
            str(inputs / "c.csv"),
            "-w",
            str(tmp_path / "w.gpkg"),
            "--report",
            str(tmp_path / f"{long_name}.json"),
        ],
        # a report name that fits, whose quarantine file name (…_cuarentena.csv) does not
        [
            "ingest",
            str(inputs / "c.csv"),
            "-w",
            str(tmp_path / "w.gpkg"),
            "--report",
            str(tmp_path / f"{'r' * 245}.json"),
        ],
        ["run", str(tmp_path / "no.toml"), "-o", str(tmp_path / long_name)],
    ]
    (tmp_path / "no.toml").write_text(f'[inputs]\nincidents = ["{inputs / "c.csv"}"]\n')
    for args in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 5, (args[-1][-30:], result.output)
        assert "bytes" in result.output and "Error interno" not in result.output
    # nothing was written before the name was refused
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no.toml"]
    # a name of 250 bytes is fine: temporaries do not repeat the output's name
    ok = tmp_path / ("w" * 245 + ".gpkg")
    result = runner.invoke(cli, ["-q", "ingest", str(inputs / "c.csv"), "-w", str(ok)])
    assert result.exit_code == 0, result.output
    assert counts(ok)[0] == 40


def test_leftovers_of_a_dead_import_are_removed_on_the_next_start(inputs, tmp_path):
    ws = tmp_path / "ws.gpkg"
    runner = CliRunner()
    assert runner.invoke(cli, ["-q", "ingest", str(inputs / "c.csv"), "-w", str(ws)]).exit_code == 0
    dead = tmp_path / ".parsc-tmp-999999999-1-0123abcd.gpkg"  # a copy left by kill -9
    dead.write_bytes(ws.read_bytes())
    Path(f"{dead}-journal").write_bytes(b"x")
    live = tmp_path / temp_name(".gpkg")  # a copy of a live writer (this process)
    live.write_bytes(b"x")
    stale_lock = _lock.lock_path(ws)
    stale_lock.write_text("999999999-1\n")  # a dead writer's lock file (flock long gone)
    result = runner.invoke(cli, ["info", str(ws)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ws.gpkg", live.name])
