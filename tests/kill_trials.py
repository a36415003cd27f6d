"""``kill -9`` trials of ``parsc-geo ingest`` and ``parsc-geo run`` (issue 13).

Each trial starts a real command in its own process, kills it with SIGKILL at a random moment,
starts parsc-geo again on the same workspace or output folder (the *next start*) and checks:

* the previous state is intact, or the command's complete new state is there, never a mixture
  (workspace: the incidents of one import or of both, with a matching import log; output
  folder: byte for byte the previous output, or every file of the new one);
* the user's own files in the output folder are untouched;
* nothing is left behind: no temporary copy of the workspace, no staging or swap folder, no
  lock file.

The next start of a workspace is ``parsc-geo info WORKSPACE``; that of an output folder is the
same ``parsc-geo run`` without ``--overwrite``, which recovers the folder and then refuses it
(exit 5) because it is not empty. Half the kills fall anywhere in the command, half in its last
fifth, where the output is swapped into place.

The complete new output a trial is compared with is made by one uninterrupted run, when
a trial first needs it.

Usage::

    python tests/kill_trials.py --trials 50 [--seed 1] [--rows 1200] [--workdir DIR]

``tests/test_kill_trials.py`` runs a few trials of the same code in the test suite. Input
rows come from the bundled synthetic sample; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Files of a run whose bytes carry the time of the run (compared without their stamps).
STAMPED = {"run.json", "prioridad/run.json", "workspace.gpkg"}
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
#: The user's own files in the output folder, which every trial must leave untouched.
USER_FILES = {"notas_del_analista.txt": "mis notas\n", "mapas/mi_capa.txt": "no borrar\n"}

RUN_TOML = """\
title = "Prueba kill -9"
synthetic = true
[inputs]
incidents = ["{csv}"]
[hotspots]
methods = ["kde"]
[priority]
bootstrap = 0
[maps]
tiles = false
"""


def parsc(*args: str) -> list[str]:
    """Return the command line of ``parsc-geo ARGS`` run by this interpreter."""
    return [sys.executable, "-m", "parsc_geo", "-q", *args]


def call(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``parsc-geo ARGS`` to completion."""
    return subprocess.run(parsc(*args), cwd=cwd, capture_output=True, text=True)


def digest(folder: Path) -> dict[str, str]:
    """Return relative path → SHA-256 of every file under ``folder`` (hidden ones included)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".html":  # the "Generado" minute of the maps
                data = _MINUTE.sub("<hora>", data.decode("utf-8")).encode("utf-8")
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def workspace_state(path: Path) -> tuple[int, int]:
    """Return (incidents, imported files) of a workspace, read without parsc-geo."""
    import pyogrio

    layers = {str(n) for n, _ in pyogrio.list_layers(path)}
    n = pyogrio.read_info(path, layer="incidents")["features"] if "incidents" in layers else 0
    files = pyogrio.read_info(path, layer="imports")["features"] if "imports" in layers else 0
    return int(n), int(files)


@dataclass
class Setup:
    """Inputs, previous states and reference new states shared by the trials."""

    root: Path
    a_csv: Path
    b_csv: Path
    run_b: Path
    base_ws: Path
    base_out: Path
    ref_out: Path
    ws_before: tuple[int, int]
    ws_after: tuple[int, int]
    ingest_s: float
    run_s: float

    def reference(self) -> dict[str, str]:
        """Return the digest of the complete new output (made on first use)."""
        if not self.ref_out.exists():
            shutil.copytree(self.base_out, self.ref_out, symlinks=True)
            _check(
                call("run", str(self.run_b), "-o", str(self.ref_out), "--overwrite", cwd=self.root)
            )
        return digest(self.ref_out)


def prepare(root: Path, rows: int, *, repeats: int = 1) -> Setup:
    """Write the inputs, a previous workspace and output; time the uninterrupted commands.

    With ``repeats`` > 1 the import is timed that many times and the reference run is made
    (and timed) at once, and the median times are kept: on a shared machine one timing can be
    far off, and the kill times are drawn from these durations.
    """
    import pandas as pd

    from parsc_geo.datasets import sample_paths

    root.mkdir(parents=True, exist_ok=True)
    sample = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    a_csv, b_csv = root / "a.csv", root / "b.csv"
    sample.iloc[:rows].to_csv(a_csv, index=False)
    sample.iloc[rows : 2 * rows].to_csv(b_csv, index=False)
    run_a, run_b = root / "run_a.toml", root / "run_b.toml"
    run_a.write_text(RUN_TOML.format(csv="a.csv"), encoding="utf-8")
    run_b.write_text(RUN_TOML.format(csv="b.csv"), encoding="utf-8")

    base_ws = root / "base.gpkg"
    _check(call("ingest", str(a_csv), "-w", str(base_ws), cwd=root))
    timed_ws = root / "timed.gpkg"
    ingest_times = []
    for _ in range(max(1, repeats)):
        shutil.copyfile(base_ws, timed_ws)
        t0 = time.perf_counter()
        _check(call("ingest", str(b_csv), "-w", str(timed_ws), cwd=root))
        ingest_times.append(time.perf_counter() - t0)
    ws_after = workspace_state(timed_ws)
    timed_ws.unlink()

    base_out = root / "base_out"
    t0 = time.perf_counter()
    _check(call("run", str(run_a), "-o", str(base_out), cwd=root))
    run_times = [time.perf_counter() - t0]  # the new run has as many rows: about as long
    for rel, text in USER_FILES.items():
        (base_out / rel).parent.mkdir(parents=True, exist_ok=True)
        (base_out / rel).write_text(text, encoding="utf-8")
    setup = Setup(
        root,
        a_csv,
        b_csv,
        run_b,
        base_ws,
        base_out,
        root / "ref_out",
        workspace_state(base_ws),
        ws_after,
        statistics.median(ingest_times),
        0.0,
    )
    if repeats > 1:
        t0 = time.perf_counter()
        setup.reference()
        run_times.append(time.perf_counter() - t0)
    setup.run_s = statistics.median(run_times)
    return setup


def _check(proc: subprocess.CompletedProcess[str]) -> None:
    if proc.returncode != 0:
        raise RuntimeError(f"set-up command failed ({proc.returncode}): {proc.stderr}")


@dataclass
class Outcome:
    """What one trial found."""

    kind: str
    delay_s: float
    killed: bool
    state: str  # "previous", "new" or a description of what is wrong
    leftovers: list[str] = field(default_factory=list)
    next_start_rc: int = 0

    @property
    def ok(self) -> bool:
        """Whether the trial kept a whole state and left nothing behind."""
        return self.state in ("previous", "new") and not self.leftovers


def _kill_after(cmd: list[str], cwd: Path, delay: float) -> bool:
    """Start ``cmd``, SIGKILL it after ``delay`` seconds; return whether it was still running."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def trial_ingest(setup: Setup, folder: Path, delay: float) -> Outcome:
    """Kill an import into a copy of the previous workspace; check the next start."""
    folder.mkdir(parents=True)
    ws = folder / "ws.gpkg"
    shutil.copyfile(setup.base_ws, ws)
    killed = _kill_after(parsc("ingest", str(setup.b_csv), "-w", str(ws)), folder, delay)
    info = call("info", str(ws), "--json", cwd=folder)
    state = workspace_state(ws)
    if state == setup.ws_before:
        verdict = "previous"
    elif state == setup.ws_after:
        verdict = "new"
    else:
        verdict = f"mixed workspace: {state}, expected {setup.ws_before} or {setup.ws_after}"
    if info.returncode != 0:
        verdict = f"next start failed ({info.returncode}): {info.stderr.strip()}"
    leftovers = sorted(p.name for p in folder.iterdir() if p.name != "ws.gpkg")
    return Outcome("ingest", delay, killed, verdict, leftovers, info.returncode)


def trial_run(setup: Setup, folder: Path, delay: float) -> Outcome:
    """Kill a run that replaces the previous output; check the next start."""
    folder.mkdir(parents=True)
    out = folder / "out"
    shutil.copytree(setup.base_out, out, symlinks=True)
    before = digest(out)
    cmd = parsc("run", str(setup.run_b), "-o", str(out), "--overwrite")
    killed = _kill_after(cmd, folder, delay)
    # the next start: recovers the folder, then refuses it (not empty, no --overwrite)
    again = call("run", str(setup.run_b), "-o", str(out), cwd=folder)
    after = digest(out) if out.exists() else {}
    if after == before:
        verdict = "previous"
    else:
        reference = setup.reference()
        if set(after) == set(reference) and all(
            after[k] == reference[k] for k in after if k not in STAMPED
        ):
            verdict = "new"
        else:
            missing = sorted(set(before) - set(after))[:3]
            extra = sorted(set(after) - set(before) - set(reference))[:3]
            verdict = f"mixed output: missing {missing}, unexpected {extra}"
    user = {
        rel: (out / rel).read_text(encoding="utf-8") for rel in USER_FILES if (out / rel).exists()
    }
    if user != USER_FILES:
        verdict = f"user files changed: {sorted(user)}"
    if again.returncode != 5:
        verdict = f"next start gave exit {again.returncode}: {again.stderr.strip()[:200]}"
    leftovers = sorted(p.name for p in folder.iterdir() if p.name != "out")
    return Outcome("run", delay, killed, verdict, leftovers, again.returncode)


def run_trials(setup: Setup, trials: int, seed: int) -> list[Outcome]:
    """Run ``trials`` trials (ingest and run alternately) with kill times drawn from ``seed``."""
    rng = random.Random(seed)
    outcomes = []
    for i in range(trials):
        kind = ("ingest", "run")[i % 2]
        duration = setup.ingest_s if kind == "ingest" else setup.run_s
        if rng.random() < 0.5:
            delay = rng.uniform(0.0, duration)
        else:  # the end of the command, where the new state is put in place
            delay = rng.uniform(0.8 * duration, 1.05 * duration)
        folder = setup.root / f"trial_{i:03d}"
        trial = trial_ingest if kind == "ingest" else trial_run
        outcomes.append(trial(setup, folder, delay))
        shutil.rmtree(folder)
    return outcomes


def summary(setup: Setup, outcomes: list[Outcome]) -> str:
    """Return the figures of a series of trials, one line per kind and one per failure."""
    lines = [
        f"uninterrupted: ingest {setup.ingest_s:.1f} s, run {setup.run_s:.1f} s",
    ]
    for kind in ("ingest", "run"):
        mine = [o for o in outcomes if o.kind == kind]
        lines.append(
            f"{kind}: {len(mine)} trials, {sum(o.killed for o in mine)} killed while running, "
            f"{sum(o.state == 'previous' for o in mine)} previous state, "
            f"{sum(o.state == 'new' for o in mine)} new state, "
            f"{sum(bool(o.leftovers) for o in mine)} with leftovers, "
            f"{sum(not o.ok for o in mine)} failed"
        )
    for kind, duration in (("ingest", setup.ingest_s), ("run", setup.run_s)):
        fractions = sorted(o.delay_s / duration for o in outcomes if o.kind == kind)
        if fractions:
            lines.append(
                f"{kind}: kill times {fractions[0]:.2f}–{fractions[-1]:.2f} of the uninterrupted "
                f"duration (median {statistics.median(fractions):.2f})"
            )
    for o in outcomes:
        if not o.ok:
            lines.append(f"  FAILED {o.kind} at {o.delay_s:.2f} s: {o.state}; left {o.leftovers}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the trials and print the figures; exit 1 if any trial failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1200, help="rows of each input file")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="parsc-kill-trials-"))
    setup = prepare(root, args.rows, repeats=3)
    outcomes = run_trials(setup, args.trials, args.seed)
    print(summary(setup, outcomes))
    print(json.dumps({"trials": len(outcomes), "failed": sum(not o.ok for o in outcomes)}))
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if any(not o.ok for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
