"""Time `parsc-geo demo` (the whole chain on the bundled 21,108-incident sample), per stage.

Goal (issue 18): under 15 s of wall time on a 2-core machine. Two measurements, each with one
worker process (the serial reference, measured in the same run) and with every core:

1. the command itself, ``python -m parsc_geo demo``, end to end (imports included): wall
   time and CPU time of the whole process tree (pool workers included, sampled);
2. the chain in this process, stage by stage (wall, CPU of the process tree, peak memory of
   the process tree).

The cores are shared with other work: read the wall times with the load average printed, and
compare CPU times, which the load does not inflate much.

Usage: ``.venv/bin/python benchmarks/bench_demo.py [--workers N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _measure import PIPELINE_STAGES, PeakMemory, Recorder, machine_note, mib, wrap_stages

from parsc_geo import pipeline
from parsc_geo.config import RunConfig
from parsc_geo.datasets import sample_paths
from parsc_geo.parallel import available_cores

GOAL_S = 15.0
STAGE_FUNCTIONS = PIPELINE_STAGES


def command_run(workers: int) -> tuple[float, float]:
    """Run ``python -m parsc_geo demo``; return (wall s, CPU s of the process tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "parsc_geo", "-q", "demo", "-o", f"{tmp}/demo"]
        start = time.perf_counter()
        process = subprocess.Popen([*args, "--workers", str(workers)], stdout=subprocess.DEVNULL)
        root = psutil.Process(process.pid)
        seen: dict[int, float] = {}  # CPU of each descendant when last seen alive
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            try:
                for p in root.children(recursive=True):
                    t = p.cpu_times()
                    seen[p.pid] = t.user + t.system
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"parsc-geo demo failed: {os.waitstatus_to_exitcode(status)}")
        # the command's own CPU (exact, from its exit status) plus its descendants' last samples
        return wall, usage.ru_utime + usage.ru_stime + sum(seen.values())


def stages_run(workers: int) -> Recorder:
    """Run the chain in this process with every stage timed."""
    paths = sample_paths()
    config = RunConfig(
        incidents=[paths["incidents"]],
        sectors=paths["sectors"],
        synthetic=True,
        methods=["kde", "gistar", "hdbscan"],
    )
    with PeakMemory() as memory, tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(memory=memory)
        restore = wrap_stages(recorder, pipeline, STAGE_FUNCTIONS)
        try:
            with recorder.step("total"):
                pipeline.run_pipeline(config, Path(tmp) / "demo", quiet=True, workers=workers)
        finally:
            restore()
    recorder.steps["total"].peak = memory.overall
    return recorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (best is kept)")
    args = parser.parse_args()
    settings = [1, args.workers] if args.workers > 1 else [1]
    print(f"parsc-geo demo (21,108 incidents); {machine_note()}")

    print("\n1. The command, end to end (imports included), best of", args.repeat)
    print(f"{'workers':>8}{'wall s':>9}{'CPU s':>9}{'wall / serial':>15}")
    command: dict[int, tuple[float, float]] = {}
    for workers in settings:
        runs = [command_run(workers) for _ in range(args.repeat)]
        command[workers] = min(runs)
        wall, cpu = command[workers]
        print(f"{workers:>8}{wall:>9.2f}{cpu:>9.2f}{wall / command[1][0]:>15.2f}")
    best = command[settings[-1]][0]
    verdict = "met" if best < GOAL_S else "NOT met"
    print(f"goal: under {GOAL_S:.0f} s of wall time with {settings[-1]} workers: {verdict} "
          f"({best:.1f} s; {machine_note()})")  # fmt: skip

    print("\n2. Stage by stage, in this process (CPU and memory of the process tree)")
    recorders = {workers: stages_run(workers) for workers in settings}
    head = "".join(f"{f'wall/CPU s, {w} w.':>22}" for w in settings)
    print(f"{'stage':<12}{head}{'peak memory':>14}")
    for stage in [*STAGE_FUNCTIONS, "total"]:
        cells = "".join(
            f"{recorders[w].steps[stage].wall:>12.2f}{recorders[w].steps[stage].cpu:>10.2f}"
            for w in settings
        )
        peak = max(recorders[w].steps[stage].peak for w in settings)
        print(f"{stage:<12}{cells}{mib(peak):>14}")
    if len(settings) > 1:
        serial, parallel = (recorders[w].steps["total"] for w in settings)
        print(
            f"chain with {settings[-1]} workers: wall {parallel.wall / serial.wall:.2f}× the "
            f"serial run's, CPU {parallel.cpu / serial.cpu:.2f}× (pool start-up and transfers)"
        )


if __name__ == "__main__":
    main()
