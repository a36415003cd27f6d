"""A few ``kill -9`` trials of ``ingest`` and ``run`` (the full series: tests/kill_trials.py).

Before issue 13, 27 of 72 such trials left ``.out-partial-*`` folders or ``.ws-*.gpkg`` copies
behind, and a kill between the two final renames of a run left no output folder at all.
"""

from __future__ import annotations

import kill_trials
import pytest

pytestmark = pytest.mark.slow


def test_kill_trials_keep_a_whole_state_and_leave_nothing(tmp_path):
    setup = kill_trials.prepare(tmp_path, rows=300)
    assert setup.ws_after[0] > setup.ws_before[0] > 0
    outcomes = kill_trials.run_trials(setup, trials=5, seed=13)
    summary = kill_trials.summary(setup, outcomes)
    assert all(o.ok for o in outcomes), summary
    assert {o.kind for o in outcomes} == {"ingest", "run"}
    assert sum(o.killed for o in outcomes) >= 3, summary
