"""The demo's outputs are those of the code before the speed work, where the method is the same.

Set ``PARSC_BASELINE_DEMO`` to the folder written by ``parsc-geo demo`` at the commit to compare
with (e.g. the commit this branch started from); without it the test is skipped, as it needs
that earlier run. Every file must be the same, up to the run's time stamps
(``tests/run_compare.py``), the PNG encoding of the same pixels or the embedded fonts of the same
PDF pages. The earlier runs compared with are written by the ``hdbscan`` package's Borůvka
(commit 1319f16 onwards): a baseline written before it, by scikit-learn's HDBSCAN, differs in a
few hotspots (ties between equal mutual reachability distances are broken differently).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_compare import compare_runs

from parsc_geo.cli.main import cli

BASELINE = os.environ.get("PARSC_BASELINE_DEMO")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not BASELINE or not Path(BASELINE, "run.json").exists(),
        reason="PARSC_BASELINE_DEMO (a demo run of the earlier code) is not set",
    ),
]


def _drop_new_keys(path: Path, baseline: Path) -> None:
    """Remove what the earlier run.json could not have: the worker count, and the
    implementation when the earlier run did not record it yet."""
    drop = "implementation" if '"implementation"' not in baseline.read_text("utf-8") else None

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != drop}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("workers", None)
    path.write_text(json.dumps(strip(data), ensure_ascii=False), encoding="utf-8")


def test_demo_outputs_are_unchanged(tmp_path: Path) -> None:
    assert BASELINE is not None
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    _drop_new_keys(out / "run.json", Path(BASELINE, "run.json"))
    compared = compare_runs(Path(BASELINE), out)
    assert not compared["missing"], compared["missing"]
    assert not compared["different"], compared["different"]
    # nearly everything is byte-identical; the rest differs only by the run's time stamps, is
    # the same image in another PNG encoding (pages, maps and their inlined overlays), or the
    # same PDF pages (text and pixels) with leaner embedded fonts (reports.pdf)
    assert len(compared["identical"]) > 90
    assert all(
        name.endswith((".html", "run.json", ".gpkg", ".png", ".pdf")) for name in compared["equal"]
    )
