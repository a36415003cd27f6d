"""Every name a benchmark imports from parsc_geo exists (benchmarks run outside the suite).

`bench_scale.py` imported ``parsc_geo.maps.atlas._folded`` inside a function after it had
moved to ``parsc_geo._text.fold_values``: its references crashed at the first size.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parents[1] / "benchmarks").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, str]]:
    """Return ``(module, name)`` of every ``from parsc_geo… import name`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("parsc_geo")
        for alias in node.names
    ]


def test_benchmarks_are_found() -> None:
    assert len(BENCHMARKS) > 20
    assert any(
        module == "parsc_geo._text"
        for module, _ in _imports(BENCHMARKS[0].parent / "bench_scale.py")
    )


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_imports_resolve(path: Path) -> None:
    missing = []
    for module, name in _imports(path):
        found = importlib.import_module(module)
        if not hasattr(found, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, missing
