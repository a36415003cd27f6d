"""Worker processes: ordered results, errors and document dates passed on, identical outputs."""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

import pytest
from _pool_tasks import fail, pid_and_epoch, square, timed
from _two_provinces import write_two_provinces
from click.testing import CliRunner

import parsc_geo.partitions as partitions
from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo.cli.main import cli
from parsc_geo.parallel import WorkerPool, available_cores, resolve_workers, worker_pool


def test_workers_are_checked_and_default_to_the_cores() -> None:
    assert resolve_workers(None) == available_cores() >= 1
    assert resolve_workers(3) == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="workers"):
            resolve_workers(bad)  # type: ignore[arg-type]


def test_one_worker_runs_in_this_process() -> None:
    with WorkerPool(1) as pool:
        assert {pid for pid, _ in pool.map(pid_and_epoch, [1, 2])} == {os.getpid()}
        pending = pool.start(square, range(5))
        assert pending.results() == [0, 1, 4, 9, 16]


def test_pool_keeps_order_passes_dates_and_raises_task_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1604102400")
    with worker_pool(2) as pool:
        assert pool.map(square, range(40)) == [x * x for x in range(40)]
        seen = pool.map(pid_and_epoch, range(8))
        assert {epoch for _, epoch in seen} == {"1604102400"}
        assert os.getpid() not in {pid for pid, _ in seen}
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")  # the date when the tasks are given
        assert {epoch for _, epoch in pool.map(pid_and_epoch, range(4))} == {"1"}
        with pytest.raises(InputDataError, match="fila 3") as info:
            pool.map(fail, range(6))
        assert info.value.hint == "revise el archivo"


def _overlapping(runs: list[tuple[int, float, float]]) -> list[tuple[int, int]]:
    """Return the weights of every two tasks that ran at the same time."""
    return [
        (a[0], b[0])
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
        if a[1] < b[2] and b[1] < a[2]
    ]


def test_tasks_handed_out_at_once_hold_at_most_the_budget() -> None:
    weights = [12, 7, 5, 3, 3, 2]
    with worker_pool(2) as pool:
        pool.in_flight = 10
        runs = pool.map_largest_first(timed, weights, size=float, held=int)
        assert [w for w, *_ in runs] == weights  # results in the order of the items
        together = _overlapping(runs)
        # never two tasks over the budget side by side; 12 (over it) ran alone
        assert together and all(a + b <= 10 for a, b in together), together
        assert not any(12 in pair for pair in together)
        # without ``held`` (as before) the two largest run side by side: the check can fail
        assert (12, 7) in _overlapping(pool.map_largest_first(timed, weights, size=float))


def test_a_broken_task_under_a_budget_is_raised_and_the_others_still_run() -> None:
    with worker_pool(2) as pool:
        pool.in_flight = 4
        pending = pool.start(fail, [2, 3, 1, 4], held=int)
        with pytest.raises(InputDataError, match="fila 3"):
            pending.results()
        assert pool.start(square, [3, 2, 2], held=int).results() == [9, 4, 4]


def test_background_tasks_take_only_idle_workers() -> None:
    with worker_pool(2) as pool:
        sheets = pool.start(timed, [1, 2, 3, 4], background=True)
        # started after them, the caller's tasks wait only for the two already handed out
        runs = pool.map(timed, [10, 20])
        drawn = sheets.results()
    assert [w for w, *_ in drawn] == [1, 2, 3, 4]  # results in the order of the items
    assert [w for w, *_ in runs] == [10, 20]
    # a plain queue would have run them after the four
    later = min(start for _, start, _ in drawn[2:])
    assert all(start < later for _, start, _ in runs), (drawn, runs)


def test_largest_first_in_the_background_queues_after_earlier_background_work() -> None:
    """Deferred atlas pages wait behind the background work queued before them.

    The demo's priority PDF (background, queued first) had waited for all 17 atlas pages,
    handed out at once, and ended the run alone.
    """
    with worker_pool(2) as pool:
        earlier = pool.start(timed, [1, 2, 3], background=True)
        pages = pool.start_largest_first(timed, [4, 9, 6, 5], size=float, background=True)
        runs = pool.map(timed, [10, 20])
        first = earlier.results()
        built = pages.results()
    assert [w for w, *_ in built] == [4, 9, 6, 5]  # results in the order of the items
    # a background task is handed out when a task ends, so the tasks start in the order they
    # are handed out: the first two background tasks, the caller's plain tasks (the executor's
    # queue), the rest of the earlier background work, then the pages, largest first. Two
    # handed out at the same moment (one worker each) may start in either order.
    handed_out = [1, 2, 10, 20, 3, 9, 6, 5, 4]
    start = {weight: begun for weight, begun, _ in first + built + runs}
    inverted = [
        (a, b)
        for i, a in enumerate(handed_out)
        for b in handed_out[i + 1 :]
        if start[b] < start[a] - 0.05
    ]
    assert not inverted, sorted(start, key=start.__getitem__)


def test_background_tasks_holding_incidents_keep_to_the_budget_with_the_others() -> None:
    with worker_pool(2) as pool:
        pool.in_flight = 10
        sheets = pool.start(timed, [8, 6], held=int, background=True)
        pages = pool.start(timed, [5, 4], held=int)
        runs = sheets.results() + pages.results()
    together = _overlapping(runs)
    # the two background tasks run side by side (as the sheets did after the other work);
    # 5 and 4 (9 ≤ 10) too, but neither beside 8 or 6 (8 + 5 > 10, 6 + 5 > 10)
    assert (8, 6) in together and (5, 4) in together, together
    assert not [pair for pair in together if set(pair) & {8, 6} and set(pair) & {5, 4}]


def test_one_background_task_runs_in_a_worker_and_close_cancels_the_queue() -> None:
    pool = WorkerPool(2)
    try:
        [(pid, _)] = pool.start(pid_and_epoch, [0], background=True).results()
        assert pid != os.getpid()
        # four tasks occupy the two workers; the background ones wait, and close drops them
        pool.start(timed, [1, 2, 3, 4])
        queued = pool.start(square, [5, 6], background=True)
    finally:
        pool.close()
    with pytest.raises(CancelledError):
        queued.results()


@pytest.fixture(scope="module")
def two_provinces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Chota and Jaén provinces of the sample with their two comisarías' sectors."""
    return write_two_provinces(tmp_path_factory.mktemp("inputs"))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_serial_and_parallel_runs_write_the_same_bytes(
    two_provinces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what the province tasks carried to the local pool's workers: frames or partitions
    # (one list per run: the kind of each task's incidents and their rows)
    carried: dict[str, list[list[tuple[str, int]]]] = {}
    original = WorkerPool.start

    def spy(
        self: WorkerPool, function: Any, items: Any, held: Any = None, *, background: bool = False
    ) -> Any:
        todo = list(items)
        name = getattr(function, "__name__", "?")
        if name in ("_province_density", "_province_hotspots"):
            at = 2 if name == "_province_hotspots" else 1
            carried.setdefault(name, []).append(
                [(type(item[at]).__name__, len(item[at])) for item in todo]
            )
        if name == "_atlas_page":
            # a page's incidents: read from the partitions by the worker, or cut here
            carried.setdefault(name, []).append(
                [getattr(item.incidents, "source", None) is not None for item in todo]
            )
        return original(self, function, todo, held=held, background=background)

    monkeypatch.setattr(WorkerPool, "start", spy)
    # pages and backtest months read partitions as those of large provinces do (the
    # fixture's provinces are below READ_MIN_ROWS)
    monkeypatch.setattr(partitions, "READ_MIN_ROWS", 1)
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        result = CliRunner().invoke(
            cli,
            [
                "run",
                str(two_provinces / "run.toml"),
                "-o",
                str(out),
                "--workers",
                str(workers),
                "--scheduler",
                "procesos",
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        outputs[workers] = out
    serial, parallel = outputs[1], outputs[2]
    # serially the tasks take the frames; the workers read each province's partition (written
    # once), so the main process holds no pickled copy of a province per waiting task: every
    # incident in one density task and in one task per method (kde, gistar, hdbscan). With
    # these few incidents (below LOCAL_DENSITY_INCIDENTS) the parallel run draws the
    # densities here, from the frames, while the workers run the hotspot methods.
    n = json.loads((parallel / "run.json").read_text(encoding="utf-8"))["counts"]["workspace"][
        "incidentes"
    ]
    for name, methods, kind in (
        ("_province_density", 1, "GeoDataFrame"),
        ("_province_hotspots", 3, "Partition"),
    ):
        serial_tasks, parallel_tasks = carried[name]
        assert {kind for kind, _ in serial_tasks} == {"GeoDataFrame"}, carried
        assert {k for k, _ in parallel_tasks} == {kind}, carried
        for tasks in (serial_tasks, parallel_tasks):
            assert sum(rows for _, rows in tasks) == methods * n
    # atlas pages: serially cut from the table here; in parallel read by the workers from the
    # same partitions (no page's incidents pickled by this process)
    serial_pages, parallel_pages = carried["_atlas_page"]
    assert serial_pages and not any(serial_pages), carried
    assert parallel_pages and all(parallel_pages), carried
    assert not list(tmp_path.glob(".parsc-tmp-*-particiones"))  # removed at the end
    assert not list(tmp_path.glob(".parsc-tmp-*-hojas"))  # the sheets' drafts, moved
    a, b = _digest(serial), _digest(parallel)
    assert set(a) == set(b)
    assert len(a) > 60
    assert any(k.endswith(".pdf") for k in a) and any(k.endswith(".png") for k in a)
    differing = sorted(k for k in a if a[k] != b[k])
    # only the run's time stamps may differ, exactly as between two serial runs
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    for name in [k for k in differing if k.endswith(".html")]:
        text_a = stamp.sub("<hora>", (serial / name).read_text(encoding="utf-8"))
        text_b = stamp.sub("<hora>", (parallel / name).read_text(encoding="utf-8"))
        assert text_a == text_b, name
        differing.remove(name)
    assert set(differing) <= {"run.json", "prioridad/run.json", "workspace.gpkg"}, differing
    ja = json.loads((serial / "run.json").read_text(encoding="utf-8"))
    jb = json.loads((parallel / "run.json").read_text(encoding="utf-8"))
    assert (ja["workers"], jb["workers"]) == (1, 2)
    for j in (ja, jb):
        for key in ("generated_at", "timings_s", "workers", "command"):
            j.pop(key)
    assert ja == jb
    # the two comisarías' sheets, the provinces' hotspots and densities all exist
    assert (parallel / "patrullaje" / "patrullaje_comisaria_sectorial_jaen.pdf").exists()
    assert (parallel / "densidad" / "densidad_chota.tif").exists()
    assert jb["counts"]["hotspots"]["hdbscan"] > 0


def test_workers_option_is_checked() -> None:
    result = CliRunner().invoke(cli, ["demo", "--workers", "0"])
    assert result.exit_code == 2
    assert "valor no válido para '--workers'" in result.output
