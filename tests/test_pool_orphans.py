"""A run killed outright (SIGKILL) leaves no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

#: A process that opens a pool of two workers, prints their pids, then waits to be killed.
CHILD = """
import os, sys, time
sys.path.insert(0, {tests!r})
from _pool_tasks import pid_and_epoch
from parsc_geo.parallel import WorkerPool

if __name__ == "__main__":
    pool = WorkerPool(2)
    pids = sorted({{pid for pid, _ in pool.map(pid_and_epoch, range(8))}})
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_workers_end_when_the_run_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert child.stdout is not None
        workers = [int(p) for p in child.stdout.readline().split()]
        assert workers and os.getpid() not in workers and child.pid not in workers
        # the forkserver the workers come from (their parent), also left behind before
        parents = {psutil.Process(w).ppid() for w in workers}
        alive = [psutil.Process(p) for p in (*workers, *parents) if p != child.pid]
        assert all(p.is_running() for p in alive)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        _, still = psutil.wait_procs(alive, timeout=30)
        assert not still, [p.pid for p in still]
    finally:
        if child.poll() is None:
            child.kill()
