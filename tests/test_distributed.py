"""Dask fan-out: a run on a LocalCluster equals the serial run file by file; options and errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _pool_tasks import fail, pid_and_epoch, square
from _two_provinces import write_two_provinces
from click.testing import CliRunner
from run_compare import compare_runs

from parsc_geo import distributed as dist
from parsc_geo import pipeline
from parsc_geo._errors import ConfigError, InputDataError, MissingDependencyError
from parsc_geo.cli.main import cli
from parsc_geo.config import parse_config
from parsc_geo.datasets import sample_paths
from parsc_geo.distributed import DaskPool, default_scheduler, open_pool
from parsc_geo.parallel import WorkerPool, available_cores
from parsc_geo.partitions import Partition, rows_loaded


@pytest.fixture(scope="module")
def two_provinces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two_provinces(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A running Dask cluster of two worker processes; yields its scheduler's address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as running:
        yield running.scheduler_address


@pytest.mark.slow
def test_dask_run_equals_the_serial_run_file_by_file(
    two_provinces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # which task functions the run handed to the cluster, with how many items
    sent: list[tuple[str, int]] = []
    # what the province tasks carried: incidents (frames) or partitions, and their rows
    carried: dict[str, list[tuple[str, int]]] = {}
    original = DaskPool.start

    def spy(
        self: DaskPool,
        function: object,
        items: object,
        held: object = None,
        *,
        background: bool = False,
    ) -> object:
        todo = list(items)  # type: ignore[call-overload]
        name = getattr(function, "__name__", "?")
        sent.append((name, len(todo)))
        if name in ("_province_density", "_province_hotspots"):
            for item in todo:
                parts = [p for p in item if isinstance(p, pd.DataFrame | Partition)]
                # the province's table (the area mask is a one-row frame of provinces)
                part = parts[0] if name == "_province_hotspots" else item[1]
                carried.setdefault(name, []).append((type(part).__name__, len(part)))
        return original(self, function, todo, held=held, background=background)  # type: ignore[arg-type]

    monkeypatch.setattr(DaskPool, "start", spy)
    # the main process never holds every incident (issue 17): the ingestion reads the file by
    # chunks (of 60,000 characters here: 16 of the 5,144 rows' file), keeps few columns of
    # them, then assigns and writes them as partitions a few chunks at a time (1,000 rows);
    # the province partitions are written a chunk at a time; no stage reads them back here
    from parsc_geo import assign
    from parsc_geo.ingest import files as ingest_module

    monkeypatch.setitem(ingest_module.ingest_files.__kwdefaults__, "chunk_chars", 60_000)
    monkeypatch.setattr(ingest_module, "SPILL_ROWS", 1_000)
    assigned: list[int] = []  # the rows of each assignment in this process
    assign_incidents = assign.assign_incidents

    def assigning(incidents: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
        assigned.append(len(incidents))
        return assign_incidents(incidents, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assign, "assign_incidents", assigning)
    loads: list[int] = []  # the rows of each partition read in this process
    load = Partition.load

    def loading(self: Partition, *args: object, **kwargs: object) -> pd.DataFrame:
        frame = load(self, *args, **kwargs)  # type: ignore[arg-type]
        loads.append(len(frame))
        return frame

    monkeypatch.setattr(Partition, "load", loading)
    states: list[pipeline.RunState] = []
    workspace = pipeline._stage_workspace

    def storing(state: pipeline.RunState) -> str:
        states.append(state)
        return workspace(state)

    monkeypatch.setattr(pipeline, "_stage_workspace", storing)
    density = pipeline._stage_density
    after_workspace: list[int] = []  # rows_loaded() when densidad starts

    def next_stage(state: pipeline.RunState) -> str:
        after_workspace.append(rows_loaded())
        return density(state)

    monkeypatch.setattr(pipeline, "_stage_density", next_stage)
    config = str(two_provinces / "run.toml")
    serial, spread = tmp_path / "serie", tmp_path / "dask"
    loaded = rows_loaded()  # other tests of this process may have read partitions here
    for out, extra in ((serial, ["--workers", "1"]), (spread, ["--workers", "2"])):
        result = CliRunner().invoke(
            cli, ["run", config, "-o", str(out), *extra], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
    # every fan-out point of the run went to the cluster: provinces, maps, sectors, sheets
    assert {name for name, n in sent if n >= 2} >= {
        "_province_density",
        "_province_hotspots",
        "_document_map",
        "_atlas_page",
        "_plan_sector",
        "_write_sheets",
    }, sent
    # the province tasks read their incidents from partitions in the workers: the main
    # process sent none and read none back; every incident went to one density task and to
    # one task per method (kde, gistar, hdbscan) of its province
    record = json.loads((spread / "run.json").read_text(encoding="utf-8"))
    n = record["counts"]["workspace"]["incidentes"]
    assert {kind for rows in carried.values() for kind, _ in rows} == {"Partition"}, carried
    assert sum(r for _, r in carried["_province_density"]) == n
    assert sum(r for _, r in carried["_province_hotspots"]) == 3 * n
    # this process read partitions only before densidad (in the Dask run: the serial run
    # reads none), a chunk at a time: the ingestion's chunks to store and split them
    assert rows_loaded() == after_workspace[1] and after_workspace[0] == loaded
    accepted = record["counts"]["ingesta"]["rows_accepted"]
    assert n == accepted  # no selection: the analyses use every accepted incident
    assert sum(loads) == 2 * accepted  # split by province, stored in the workspace
    assert max(loads) <= 1_000 + 500 < accepted, loads
    # serial run: one assignment of every incident; Dask run: 1,000 rows at a time (a chunk
    # of the file holds ~330 rows: a batch ends at the first chunk that fills it)
    assert assigned[0] == accepted and sum(assigned[1:]) == accepted
    assert len(assigned) > 4 and max(assigned[1:]) <= 1_000 + 500, assigned
    assert len(states) == 2  # the serial run's and the Dask run's
    state = states[1]
    assert state.released is not None and not len(state.empty)
    assert state.ingested is not None and not len(state.ingested.result.accepted)
    with pytest.raises(RuntimeError, match="holds no incidents"):
        _ = state.incidents
    assert state.n_incidents == n
    assert not list(tmp_path.glob(".parsc-tmp-*-particiones"))  # removed at the end
    compared = compare_runs(serial, spread)
    assert not compared["missing"], compared["missing"]
    assert not compared["different"], compared["different"]
    # every file compared: the PDF sheets, PNG maps, rasters, tables and pages of both runs
    names = set(compared["identical"]) | set(compared["equal"])
    assert len(names) > 60
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".tif") for n in names)
    # beyond bytes, only the run's time stamps may differ, as between two serial runs
    assert all(n.endswith((".html", "run.json", ".gpkg")) for n in compared["equal"])
    record = json.loads((spread / "run.json").read_text(encoding="utf-8"))
    assert (record["scheduler"], record["workers"]) == ("dask", 2)
    assert record["counts"]["hotspots"]["hdbscan"] > 0
    before = json.loads((serial / "run.json").read_text(encoding="utf-8"))
    assert (before["scheduler"], before["workers"]) == ("procesos", 1)


def test_pool_on_a_running_scheduler_keeps_order_dates_and_errors(
    cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1604102400")
    with DaskPool(address=cluster) as pool:
        pool.warm_up()
        assert (pool.workers, pool.scheduler) == (2, cluster)
        assert pool.map(square, range(30)) == [x * x for x in range(30)]
        # largest first on the cluster, results still in the order of the items
        assert pool.map_largest_first(square, [3, 1, 2], lambda x: x) == [9, 1, 4]
        seen = pool.map(pid_and_epoch, range(6))
        assert {epoch for _, epoch in seen} == {"1604102400"}
        assert os.getpid() not in {pid for pid, _ in seen}
        with pytest.raises(InputDataError, match="fila 3") as info:
            pool.map(fail, range(6))
        assert info.value.hint == "revise el archivo"


def test_the_cluster_is_handed_a_window_of_tasks_at_a_time(
    cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    sent: list[int] = []  # items sent to the cluster by each scatter
    original = Client.scatter

    def counting(self: Client, data: list[object], *args: object, **kwargs: object) -> object:
        sent.append(len(data))
        return original(self, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Client, "scatter", counting)
    with DaskPool(address=cluster) as pool:
        pool.warm_up()
        pending = pool.start(square, range(30))
        # two workers, two tasks each: 4 items sent before any result is collected
        assert pool.window == 4 and sum(sent) == 4
        assert pending.results() == [x * x for x in range(30)]
        assert sent == [1] * 30  # then one more as each result came back, each item once


def test_local_cluster_of_one_worker_or_one_item_works_in_this_process() -> None:
    with DaskPool(1) as pool:
        assert {pid for pid, _ in pool.map(pid_and_epoch, [1, 2])} == {os.getpid()}
        assert pool._cluster is None
    with DaskPool(2) as pool:
        assert pool.map(pid_and_epoch, [1])[0][0] == os.getpid()
        assert pool._cluster is None  # no cluster was started for a single task


def test_a_background_task_goes_to_the_cluster_even_alone(cluster: str) -> None:
    # as the local process pool sends its background tasks (a run's Knox test, a lone
    # comisaría's sheets) to its processes: this process is left the run's own work
    with DaskPool(address=cluster) as pool:
        [(pid, _)] = pool.start(pid_and_epoch, [1], background=True).results()
        assert pid != os.getpid()
        [(pid, _)] = pool.start(pid_and_epoch, [1]).results()
        assert pid == os.getpid()  # a single task that is not background runs here


def test_the_pool_follows_workers_and_scheduler() -> None:
    # (scheduler given or not, workers) → the run's choice, as the run command makes it
    assert default_scheduler(None, None) is None
    assert default_scheduler(1, None) is None
    assert default_scheduler(2, None) == "dask"
    assert default_scheduler(4, "procesos") == "procesos"
    assert default_scheduler(None, "tcp://h:8786") == "tcp://h:8786"
    every_core = open_pool(None, None)
    assert type(every_core) is WorkerPool and every_core.workers == available_cores()
    assert type(open_pool(3, "procesos")) is WorkerPool
    local = open_pool(2, "dask")
    assert isinstance(local, DaskPool) and (local.workers, local.scheduler) == (2, "dask")
    remote = open_pool(None, "tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskPool) and remote.scheduler == "tcp://10.0.0.5:8786"
    for bad in ("ftp://x:1", "tcp://solo-host", "hilos"):
        with pytest.raises(ConfigError, match="scheduler"):
            open_pool(2, bad)


def test_without_dask_the_run_stops_with_exit_6_and_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(MissingDependencyError):
        dist.require_distributed()
    config = tmp_path / "run.toml"
    config.write_text(
        f'[inputs]\nincidents = ["{sample_paths()["incidents"].as_posix()}"]\n', encoding="utf-8"
    )
    for extra in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]):
        result = CliRunner().invoke(cli, ["run", str(config), "-o", str(tmp_path / "o"), *extra])
        assert result.exit_code == 6, result.output
        assert "pip install 'parsc-geo[dask]'" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
    # the process pool needs no Dask
    assert type(open_pool(2, "procesos")) is WorkerPool


def test_unreachable_scheduler_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT_S", 1)
    config = tmp_path / "run.toml"
    config.write_text(
        f'[inputs]\nincidents = ["{sample_paths()["incidents"].as_posix()}"]\n', encoding="utf-8"
    )
    address = f"tcp://127.0.0.1:{port}"
    result = CliRunner().invoke(
        cli, ["run", str(config), "-o", str(tmp_path / "o"), "--scheduler", address]
    )
    assert result.exit_code == 4, result.output
    assert f"no se pudo conectar con el planificador Dask {address}" in result.output
    assert "dask scheduler" in result.output


def test_scheduler_option_is_checked() -> None:
    result = CliRunner().invoke(cli, ["run", "x.toml", "--scheduler", "hilos"])
    assert result.exit_code == 2
    assert "valor no válido para '--scheduler': scheduler debe ser 'procesos'" in result.output


def test_parallel_table_of_the_configuration(tmp_path: Path) -> None:
    incidents = tmp_path / "i.csv"
    incidents.write_text("x\n", encoding="utf-8")
    base = {"inputs": {"incidents": ["i.csv"]}}
    config = parse_config(
        {**base, "parallel": {"workers": 4, "scheduler": "tcp://10.0.0.5:8786"}}, base=tmp_path
    )
    assert (config.workers, config.scheduler) == (4, "tcp://10.0.0.5:8786")
    auto = parse_config({**base, "parallel": {"workers": "auto"}}, base=tmp_path)
    assert (auto.workers, auto.scheduler) == (None, None)
    with pytest.raises(ConfigError) as info:
        parse_config(
            {**base, "parallel": {"workers": 0, "scheduler": 8786, "nodes": 3}}, base=tmp_path
        )
    message = str(info.value)
    assert "parallel.workers debe ser un número entero ≥ 1 o 'auto'; se recibió 0" in message
    assert "parallel.scheduler debe ser texto; se recibió 8786" in message
    assert "clave desconocida 'nodes' en [parallel]" in message


def test_configured_workers_start_a_local_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``[parallel] workers = 2`` in the file: the run asks for a LocalCluster, as --workers 2."""
    import parsc_geo.pipeline as pipeline

    asked: dict[str, object] = {}

    def fake_run(config: object, output: object, **kwargs: object) -> object:
        asked.update(kwargs)
        raise ConfigError("detenido por la prueba")

    monkeypatch.setattr(pipeline, "run_pipeline", fake_run)
    config = tmp_path / "run.toml"
    config.write_text(
        f'[inputs]\nincidents = ["{sample_paths()["incidents"].as_posix()}"]\n'
        "[parallel]\nworkers = 2\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["run", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 4
    assert (asked["workers"], asked["scheduler"]) == (2, "dask")
    result = CliRunner().invoke(
        cli, ["run", str(config), "-o", str(tmp_path / "o"), "--scheduler", "procesos"]
    )
    assert (asked["workers"], asked["scheduler"]) == (2, "procesos")


def _distributed_log_level() -> list[int]:
    """The levels of the handlers that print a worker's Dask messages."""
    import logging

    handlers = logging.getLogger("distributed").handlers
    return [h.level for h in handlers if isinstance(h, logging.StreamHandler)]


def test_a_local_cluster_logs_only_critical_messages_unless_verbose() -> None:
    # a run's errors come back as its own messages; Dask's error logs (a heartbeat failing
    # while the cluster closes, with a traceback) are shown with -v only
    import logging

    from parsc_geo.distributed import cluster_log_level

    root = logging.getLogger("parsc_geo")
    before = root.level
    try:
        root.setLevel(logging.INFO)
        assert cluster_log_level() == logging.CRITICAL
        with DaskPool(2) as pool:
            pool.map(pid_and_epoch, [1, 2])
            assert pool._client is not None
            levels = pool._client.run(_distributed_log_level)
            assert len(levels) == 2
            assert all(found and set(found) == {logging.CRITICAL} for found in levels.values())
        root.setLevel(logging.DEBUG)
        assert cluster_log_level() == logging.ERROR
    finally:
        root.setLevel(before)
