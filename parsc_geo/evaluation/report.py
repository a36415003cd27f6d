"""Files of an evaluation: ``evaluacion.json``, ``evaluacion.csv``, the curves PNG, selections.

:func:`write_evaluation` writes, in one folder,

``evaluacion.json``
    Parameters (dates, grid, rules, counts), per method and coverage ``hit_rate``, ``pai``,
    ``pei_star``, ``rri``, ``n_cells``, ``area_km2`` (plus hits, bootstrap intervals, offset
    sensitivity), the curves, what ``auto`` chose with every candidate's backtest scores, and the
    rolling-origin folds when asked.
``evaluacion.csv``
    One row per method and coverage (UTF-8 with BOM, so that Excel shows accents).
``curvas_tasa_acierto.png``
    Hit-rate curves of every method over 0.5–20 % of the study area.
``seleccion/<method>_<coverage>pct.geojson``
    The selected cells (EPSG:4326) with ``rank``, ``score``, ``weight`` (below 1 for cells
    tied at the cut), and the training and test incidents inside.

Every file is written atomically; existing files are replaced only with ``overwrite``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import atomic_path, write_bytes_atomic, write_text_atomic
from .._errors import OutputError

if TYPE_CHECKING:
    from .forecast import Evaluation

JSON_NAME = "evaluacion.json"
CSV_NAME = "evaluacion.csv"
PNG_NAME = "curvas_tasa_acierto.png"
SELECTION_DIR = "seleccion"


def selection_name(method: str, coverage_key: str) -> str:
    """Return the file name of a selection: ``<method>_<coverage>pct.geojson``."""
    return f"{method}_{coverage_key}pct.geojson"


def _clean(value: Any) -> Any:
    """Replace non-finite floats by None so that the JSON is standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return _clean(value.item())
    return value


def evaluation_paths(directory: str | Path, evaluation: Evaluation) -> list[Path]:
    """Return every path :func:`write_evaluation` writes, in writing order."""
    root = Path(directory)
    paths = [root / JSON_NAME, root / CSV_NAME, root / PNG_NAME]
    paths += [root / SELECTION_DIR / selection_name(m, k) for m, k in evaluation.selections]
    return paths


def write_evaluation(
    evaluation: Evaluation,
    directory: str | Path,
    *,
    overwrite: bool = False,
    synthetic: bool = False,
) -> list[Path]:
    """Write the evaluation's files into ``directory`` and return their paths.

    Raises
    ------
    OutputError
        When a file exists and ``overwrite`` is False (nothing is written then), or a file
        cannot be written.
    """
    import pandas as pd

    paths = evaluation_paths(directory, evaluation)
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{existing[0]} ya existe ({len(existing)} archivo(s) de una evaluación anterior)",
            hint="use --overwrite para reemplazarlos o elija otra carpeta",
        )
    content = evaluation.as_dict()
    content["parameters"] = {**content["parameters"], "synthetic": bool(synthetic)}
    text = json.dumps(_clean(content), indent=2, ensure_ascii=False)
    write_text_atomic(paths[0], text + "\n", overwrite=overwrite)
    table = pd.DataFrame(evaluation.rows())
    write_bytes_atomic(
        paths[1],
        table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"),
        overwrite=overwrite,
    )
    _write_curves(evaluation, paths[2], overwrite=overwrite, synthetic=synthetic)
    for (method, key), frame in evaluation.selections.items():
        target = Path(directory) / SELECTION_DIR / selection_name(method, key)
        write_text_atomic(target, frame.to_json(drop_id=True) + "\n", overwrite=overwrite)
    return paths


def _write_curves(evaluation: Evaluation, path: Path, *, overwrite: bool, synthetic: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._text import num
    from ..reports.pdf import PNG_SAVE_OPTIONS
    from ..settings import SYNTHETIC_BANNER

    params = evaluation.parameters
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    try:
        for name, entry in evaluation.methods.items():
            curve = entry["curve"]
            xs = [100 * c for c in curve["coverage"]]
            ys = [100 * (h or 0.0) for h in curve["hit_rate"]]
            style = "--" if name in ("counts", "counts_last") else "-"
            width = 2.4 if name == "auto" else 1.4
            ax.plot(xs, ys, style, linewidth=width, label=name)
        for p in params["coverages"]:
            ax.axvline(100 * p, color="#888888", linewidth=0.8, linestyle=":")
        ax.set_xlabel("Área seleccionada (% del área de estudio)")
        ax.set_ylabel("Incidentes futuros capturados (%)")
        ax.set_title(
            f"Tasa de acierto: entrenamiento hasta {params['split']}, "
            f"prueba hasta {params['test_end']}\n"
            f"celdas de {num(params['cell_size_m'])} m, "
            f"{num(params['n_test'])} incidentes de prueba",
            fontsize=10,
        )
        ax.set_xlim(0, 20.5)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        if synthetic:
            fig.text(0.5, 0.99, SYNTHETIC_BANNER, ha="center", va="top", color="#c00000")
        fig.tight_layout()
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format="png", pil_kwargs=dict(PNG_SAVE_OPTIONS))
    finally:
        plt.close(fig)
