"""Long stages say they are running while they run (issue 16): phases and heartbeats."""

from __future__ import annotations

import logging

from parsc_geo.cli.progress import Heartbeat, stage


def test_heartbeat_speaks_every_interval_once():
    beat = Heartbeat("planificando", start=100.0, every=15.0)
    assert beat.due(110.0) is None  # 10 s: not yet
    assert beat.due(115.0) == "planificando: sigue en curso (15 s)"
    assert beat.due(120.0) is None  # said at 15 s, next at 30 s
    assert beat.due(131.0) == "planificando: sigue en curso (31 s)"
    # a long pause (the thread was not scheduled) gives one line, not the missed ones
    assert beat.due(200.0) == "planificando: sigue en curso (100 s)"
    assert beat.due(204.0) is None  # 104 s < 7 × 15 s = 105 s


def test_stage_announces_start_and_duration(caplog):
    times = iter([10.0, 12.5])
    with (
        caplog.at_level(logging.INFO, logger="parsc_geo"),
        stage("calculando niveles", clock=lambda: next(times), terminal=False, every=60),
    ):
        pass
    messages = [r.getMessage() for r in caplog.records]
    # 12.5 - 10.0 = 2.5 s
    assert messages == ["Calculando niveles…", "Calculando niveles: listo en 2.5 s"]


def test_stage_is_silent_when_quiet(caplog):
    with (
        caplog.at_level(logging.DEBUG, logger="parsc_geo"),
        stage("calculando niveles", quiet=True, terminal=False),
    ):
        pass
    assert not caplog.records


def test_a_failing_stage_does_not_say_it_is_done(caplog):
    with caplog.at_level(logging.INFO, logger="parsc_geo"):
        try:
            with stage("escribiendo", terminal=False, every=60):
                raise RuntimeError("disco lleno")
        except RuntimeError:
            pass
    assert [r.getMessage() for r in caplog.records] == ["Escribiendo…"]
