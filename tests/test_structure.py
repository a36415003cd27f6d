"""The package's shape: no import cycles, old module paths still work, no shim files.

The import graph is computed from the source with :mod:`ast` (every ``import`` and
``from … import``, at module level, inside functions and under ``TYPE_CHECKING``): a cycle
anywhere in it is a design fault even when Python happens to resolve it at run time.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "parsc_geo"

#: Public names defined by the flat modules of parsc-geo 0.1, taken from that version's source
#: (module path → names). Every one must stay importable from the old path.
OLD_PUBLIC_NAMES: dict[str, list[str]] = {
    "parsc_geo.ingest": [
        "FIX_FLAGS",
        "IngestOptions",
        "IngestResult",
        "REASONS",
        "build_report",
        "file_sha256",
        "ingest_files",
    ],
    "parsc_geo.ingest_checks": [
        "duplicate_mask",
        "inside",
        "read_config",
        "station_stack",
        "study_area",
    ],
    "parsc_geo.store": [
        "IMPORTS",
        "INCIDENTS",
        "METADATA",
        "QUARANTINE",
        "SECTORS",
        "Workspace",
        "file_sha256",
    ],
    "parsc_geo.counts": [
        "COLUMN_ALIASES",
        "COUNT_COLUMNS",
        "SIDPOL_COLUMNS",
        "TAXONOMY_COLUMNS",
        "classify_counts",
        "counts_from_incidents",
        "counts_from_workspace",
        "is_sidpol_header",
        "pad_ubigeo",
        "read_count_table",
        "read_counts",
        "read_sidpol_csv",
    ],
    "parsc_geo.rates": [
        "EBEstimate",
        "FloatArray",
        "RATE_PER",
        "crude_rate",
        "empirical_bayes",
        "percent_change",
    ],
    "parsc_geo.priority": [
        "DEFAULT_FENOMENOS",
        "DEFAULT_N_BOOT",
        "DEFAULT_PERIOD_MONTHS",
        "DETAIL_COLUMNS",
        "LEVEL_ALTA",
        "LEVEL_NONE",
        "LEVEL_PRIORIDAD",
        "Period",
        "PriorityResult",
        "PriorityRule",
        "RATE_PER",
        "TERRITORIAL_LEVELS",
        "assign_levels",
        "bootstrap_stability",
        "compute_priority",
        "empirical_bayes",
        "levels_array",
        "percent_change",
        "plan_table",
        "top_districts",
    ],
    "parsc_geo.priority_levels": [
        "DEFAULT_MIN_COUNT",
        "DEFAULT_MIN_COUNT_PRIORIDAD",
        "DEFAULT_N_INIT",
        "INDICATORS",
        "KMEANS_FEATURES",
        "LEVELS",
        "LEVEL_ALTA",
        "LEVEL_NONE",
        "LEVEL_PRIORIDAD",
        "METHODS",
        "PriorityRule",
        "assign_levels",
        "kmeans",
        "levels_array",
        "rank_groups",
    ],
    "parsc_geo.priority_outputs": [
        "DETAIL_HEADERS_ES",
        "LEVEL_COLORS",
        "LEVEL_LABELS_ES",
        "describe_inputs",
        "detail_table",
        "package_versions",
        "plan_markdown",
        "top_districts_table",
        "write_priority_map_html",
        "write_priority_map_png",
        "write_priority_outputs",
        "write_run_json",
    ],
    "parsc_geo.patrol": [
        "NO_SUBSECTOR",
        "PatrolPlan",
        "SectorPlan",
        "clock",
        "plan_patrols",
        "point_id",
        "shift_label",
        "write_patrol_outputs",
    ],
    "parsc_geo.patrol_outputs": [
        "HEADERS_ES",
        "planned_files",
        "slug",
        "spanish",
        "write_patrol_outputs",
    ],
    "parsc_geo.patrol_points": [
        "DBSCAN_BUFFER_M",
        "DEFAULT_CELL_SIZE_M",
        "DEFAULT_CORE_RADIUS_M",
        "DEFAULT_EPS_M",
        "DEFAULT_MAX_AREA_M2",
        "DEFAULT_MAX_POINTS",
        "DEFAULT_METHOD",
        "DEFAULT_MIN_COUNT",
        "METHODS",
        "POINT_COLUMNS",
        "critical_points",
        "engine_candidates",
        "grid_candidates",
        "peak_days",
        "peak_hours",
        "top_modalidades",
    ],
    "parsc_geo.patrol_windows": [
        "DAY_TYPES",
        "DEFAULT_BLOCK_HOURS",
        "DEFAULT_SHARE",
        "Window",
        "block_counts",
        "check_window_options",
        "hour_day_table",
        "hourly_counts",
        "local_times",
        "merge_blocks",
        "minimal_cover",
        "patrol_windows",
        "window_hours",
    ],
    "parsc_geo.patrol_schedule": [
        "ScheduleOptions",
        "ShiftSchedule",
        "Visit",
        "apportion",
        "distance_matrix",
        "max_spaced",
        "patrol_segments",
        "schedule_shift",
        "shortest_tour",
        "slot_starts",
        "tour_length",
        "travel_minutes_for",
    ],
    "parsc_geo._es": ["THOUSANDS", "num"],
    "parsc_geo._xlsx": ["DEFAULT_DOCUMENT_DATE", "document_date", "freeze_xlsx"],
    "parsc_geo.ranking": [
        "CRITERIA_ES",
        "GROUP_COLUMNS",
        "HEADERS_ES",
        "LEVELS",
        "RANKING_FILES",
        "RANK_BY",
        "UNASSIGNED_ES",
        "province_summary",
        "rank_hotspots",
        "ranking_table",
        "sort_keys",
        "write_rankings",
        "write_table",
    ],
    "parsc_geo.pipeline": [
        "RECORDED_PACKAGES",
        "RunResult",
        "STAGES",
        "fmt_int",
        "package_versions",
        "run_pipeline",
        "slug",
        "staged_output",
    ],
}


def _module_names() -> dict[str, tuple[Path, bool]]:
    """Return module name → (file, is a package) for every module of parsc_geo."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    """Return module → the parsc_geo modules it imports (anywhere in its source)."""
    modules = _module_names()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        base = name.split(".") if is_package else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    prefix = base[: len(base) - node.level + 1]
                    module = ".".join(prefix + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if not module.startswith("parsc_geo"):
                    continue
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in modules else module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("parsc_geo"))
        graph[name] = {t for t in targets if t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_planted_cycle():
    # a → b → c → a is one cycle; d → a hangs off it; e stands alone
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_import_graph_sees_function_level_and_type_checking_imports():
    graph = import_graph()
    # reports/patrol_outputs imports PatrolPlan under TYPE_CHECKING and patrol_sheet in a body
    assert "parsc_geo.patrol.plan" in graph["parsc_geo.reports.patrol_outputs"]
    assert "parsc_geo.reports.patrol_sheet" in graph["parsc_geo.reports.patrol_outputs"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_every_internal_import_names_an_existing_module():
    modules = _module_names()
    graph = import_graph()
    unknown = {
        (src, dst)
        for src, targets in graph.items()
        for dst in targets
        if dst not in modules and dst.rsplit(".", 1)[0] not in modules
    }
    assert unknown == set()


def test_no_module_imports_an_old_path():
    from parsc_geo._compat import MOVED_MODULES

    graph = import_graph()
    offenders = {
        (src, dst) for src, targets in graph.items() for dst in targets if dst in MOVED_MODULES
    }
    assert offenders == set()


def test_old_flat_modules_left_no_files():
    from parsc_geo._compat import MOVED_MODULES

    for old in MOVED_MODULES:
        relative = Path(*old.split(".")[1:])
        assert not (PACKAGE / relative.with_suffix(".py")).exists(), old
        assert not (PACKAGE / relative).is_dir(), old


@pytest.mark.parametrize("old", sorted(OLD_PUBLIC_NAMES))
def test_old_paths_import_and_serve_every_public_name(old):
    module = importlib.import_module(old)
    for name in OLD_PUBLIC_NAMES[old]:
        assert getattr(module, name) is not None, f"{old}.{name}"
    namespace: dict[str, object] = {}
    exec(f"from {old} import {', '.join(OLD_PUBLIC_NAMES[old])}", namespace)


def test_old_paths_serve_the_same_objects_as_the_new_homes():
    import parsc_geo._es
    import parsc_geo.counts
    import parsc_geo.patrol_windows
    import parsc_geo.store
    from parsc_geo import _provenance, _text, reports, workspace
    from parsc_geo.patrol import windows
    from parsc_geo.priority import counts
    from parsc_geo.reports import rankings

    assert parsc_geo.store.Workspace is workspace.Workspace
    assert parsc_geo.store.file_sha256 is _provenance.file_sha256
    assert parsc_geo.counts.read_counts is counts.read_counts
    assert parsc_geo.patrol_windows.patrol_windows is windows.patrol_windows
    assert parsc_geo._es.num is _text.num
    from parsc_geo.patrol import write_patrol_outputs
    from parsc_geo.patrol_outputs import write_patrol_outputs as old_writer

    assert write_patrol_outputs is old_writer is reports.write_patrol_outputs
    from parsc_geo.pipeline import fmt_int
    from parsc_geo.ranking import write_rankings

    assert fmt_int is _text.num
    assert write_rankings is rankings.write_rankings


def test_monkeypatching_an_old_path_patches_the_new_module(monkeypatch):
    import parsc_geo.patrol_windows as old
    from parsc_geo.patrol import windows

    monkeypatch.setattr(old, "DEFAULT_SHARE", 0.9)
    assert windows.DEFAULT_SHARE == 0.9


def test_unknown_names_still_raise_attribute_error():
    import parsc_geo.patrol
    import parsc_geo.store

    with pytest.raises(AttributeError):
        parsc_geo.store.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        parsc_geo.patrol.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        importlib.import_module("parsc_geo.no_such_module")


def test_cli_import_loads_no_numerical_library():
    # `parsc-geo --help` must stay instant: the command group imports no heavy package.
    code = (
        "import sys, parsc_geo.cli.main as m; "
        "from click.testing import CliRunner; "
        "r = CliRunner().invoke(m.cli, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = {'numpy', 'pandas', 'geopandas', 'shapely', 'pyproj', 'folium', 'matplotlib'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
