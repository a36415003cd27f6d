"""Hotspots as forecasts: how much future crime a selection of cells captures, and why.

A hotspot map is a forecast ("patrol here next month"). This package scores any method that
ranks the cells of a grid against the incidents that came after it, always beside the naive
baselines (last period's counts), on the same grid and the same area budget.

Modules
-------
:mod:`~parsc_geo.evaluation.cells`
    The evaluation grid (square cells over a study area, any origin) and its rules.
:mod:`~parsc_geo.evaluation.metrics`
    Hit rate, PAI, PEI*, RRI and their curves.
:mod:`~parsc_geo.evaluation.candidates`
    Forecast rules fitted fast at many origins (counts, KDE, blends, time-weighted, Gi*).
:mod:`~parsc_geo.evaluation.backtest`
    Rolling-origin folds and backtests.
:mod:`~parsc_geo.evaluation.selection`
    The automatic choice by backtest behind ``method="auto"``.
:mod:`~parsc_geo.evaluation.methods`
    The methods ``parsc-geo evaluate`` compares.
:mod:`~parsc_geo.evaluation.forecast`
    :func:`evaluate_forecast`: split, fit, score, bootstrap, grid offsets, rolling folds.
:mod:`~parsc_geo.evaluation.report`
    :func:`write_evaluation`: ``evaluacion.json``, ``evaluacion.csv``, curves, selections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .forecast import Evaluation

__all__ = ["evaluate_forecast", "write_evaluation"]


def evaluate_forecast(*args: Any, **kwargs: Any) -> Evaluation:
    """Evaluate hotspot methods as forecasts (:func:`.forecast.evaluate_forecast`)."""
    from .forecast import evaluate_forecast as _evaluate

    return _evaluate(*args, **kwargs)


def write_evaluation(*args: Any, **kwargs: Any) -> Any:
    """Write an evaluation's files (:func:`.report.write_evaluation`)."""
    from .report import write_evaluation as _write

    return _write(*args, **kwargs)
