"""How a map was made, in words: the parameters panel and its "Precisión histórica".

The title block of every map says how it was made in plain Spanish, not as code values
(``Núcleo: cuártico; radio de búsqueda: 1,06 km (regla espacial de Silverman)``):
:func:`density_words` reads a density raster's recorded choices, :func:`parameter_lines` any
parameter mapping (known keys in words, others as ``Nombre: valor``), and
:func:`accuracy_lines` the backtested accuracy of the hotspots beside the counts baseline.

Numbers follow the project's Spanish style: decimal comma, thousands grouped with a
non-breaking space (``1 234,5``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Kernel names in Spanish.
KERNELS_ES: dict[str, str] = {
    "quartic": "cuártico",
    "gaussian": "gaussiano",
    "epanechnikov": "de Epanechnikov",
    "triangular": "triangular",
    "uniform": "uniforme",
}

#: Bandwidth rules (``parameters["bandwidth_rule"]`` of a density) in words.
BANDWIDTH_RULES_ES: dict[str, str] = {
    "silverman": "regla espacial de Silverman, la de ArcGIS",
    "scott": "regla de Scott",
    "lcv": "validación cruzada de verosimilitud",
    "given": "fijado en la configuración",
    "minimum": "el mínimo automático: los puntos están en un solo lugar",
}

#: Hotspot and evaluation methods in words.
METHODS_ES: dict[str, str] = {
    "kde": "densidad kernel (KDE)",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "gistar": "Getis-Ord Gi*",
    "auto": "elección automática por prueba retrospectiva",
    "counts": "conteo del periodo anterior (referencia)",
    "counts_last": "conteo del último periodo de igual duración (referencia)",
}

#: Ranking criteria in words.
RANK_BY_ES: dict[str, str] = {
    "n": "número de incidentes",
    "harm": "daño ponderado (gravedad de cada delito)",
    "density": "densidad (incidentes por km²)",
}

#: Priority rules in words.
PRIORITY_RULES_ES: dict[str, str] = {
    "kmeans": "k-medias (el «CLÚSTER» del plan)",
    "fisher_jenks": "cortes naturales de Fisher-Jenks",
    "quantiles": "cuantiles",
    "thresholds": "umbrales fijos",
}

#: Parameter keys in words: key (folded to lower case) → label and how the value reads.
_KNOWN: dict[str, tuple[str, str]] = {
    "kernel": ("Núcleo de la densidad", "kernel"),
    "núcleo": ("Núcleo de la densidad", "kernel"),
    "bandwidth": ("Radio de búsqueda", "length"),
    "ancho_de_banda": ("Radio de búsqueda", "length"),
    "cell_size": ("Celda", "length"),
    "celda": ("Celda", "length"),
    "métodos": ("Métodos de zonas críticas", "methods"),
    "metodos": ("Métodos de zonas críticas", "methods"),
    "methods": ("Métodos de zonas críticas", "methods"),
    "ranking": ("Zonas ordenadas por", "rank_by"),
    "rank_by": ("Zonas ordenadas por", "rank_by"),
    "regla": ("Regla de niveles de prioridad", "rule"),
    "rule": ("Regla de niveles de prioridad", "rule"),
    "n_boot": ("Remuestreos para medir la estabilidad", "number"),
    "bootstrap": ("Remuestreos para medir la estabilidad", "number"),
    "privacy_k": ("Incidentes mínimos por lugar publicado", "number"),
    "seed": ("Semilla aleatoria", "text"),
    "workspace": ("Datos", "text"),
    "public": ("Mapa público", "bool"),
    "offline": ("Archivo único, sin conexión", "bool"),
    "public_grid_m": ("Celda mínima de los lugares publicados", "length"),
}


def es_num(value: float, decimals: int = 0) -> str:
    """Return ``value`` with a decimal comma and non-breaking-space groups: ``1 234,5``."""
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def es_short(value: float) -> str:
    """Return ``value`` with about three significant digits (``0,853``, ``34,2``, ``1 240``)."""
    v = float(value)
    if not math.isfinite(v):
        return "—"
    if v == 0 or abs(v) >= 100:
        return es_num(v, 0)
    digits = max(0, 2 - math.floor(math.log10(abs(v))))
    return es_num(v, digits)


def length_text(metres: float) -> str:
    """Return a length in words: ``654 m``, ``1,06 km``."""
    m = float(metres)
    if m < 1000:
        return f"{es_num(m, 0)} m"
    return f"{es_num(m / 1000, 2)} km"


def percent(share: float) -> str:
    """Return a share (0–1) as a Spanish percentage: ``34 %``, ``4,5 %``."""
    p = 100.0 * float(share)
    return f"{es_num(p, 0 if p >= 10 or p == 0 else 1)} %"


def _methods_text(value: Any) -> str:
    names = value if isinstance(value, list | tuple) else str(value).split(",")
    return ", ".join(METHODS_ES.get(str(n).strip(), str(n).strip()) for n in names if str(n))


def _value_text(kind: str, value: Any) -> str:
    if kind == "kernel":
        return KERNELS_ES.get(str(value), str(value))
    if kind == "length":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return length_text(value)
        return "automático" if str(value).strip().lower() == "auto" else str(value)
    if kind == "methods":
        return _methods_text(value)
    if kind == "rank_by":
        return RANK_BY_ES.get(str(value), str(value))
    if kind == "rule":
        return PRIORITY_RULES_ES.get(str(value), str(value))
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int):
        return es_num(value)
    if isinstance(value, float):
        return es_short(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _label(key: str) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def parameter_lines(parameters: Mapping[str, Any] | None) -> list[str]:
    """Return ``"Etiqueta: valor"`` lines for a parameter mapping, known keys in words.

    Nested mappings read as ``"Grupo — etiqueta: valor"``; keys keep their order.
    """
    out: list[str] = []

    def walk(prefix: str, mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            known = _KNOWN.get(str(key).strip().lower())
            label = known[0] if known else _label(str(key))
            if prefix:
                label = f"{prefix} — {label[:1].lower()}{label[1:]}"
            if isinstance(value, Mapping):
                walk(label, value)
                continue
            text = _value_text(known[1], value) if known else _plain(value)
            out.append(f"{label}: {text}")

    walk("", parameters or {})
    return out


def density_words(raster: Any) -> str:
    """Return how a density was estimated, from its recorded parameters, in one sentence.

    Examples: ``Núcleo cuártico; radio de búsqueda: 654 m (regla espacial de Silverman, la de
    ArcGIS); celdas de 164 m (radio de búsqueda / 4)``.
    """
    params = dict(getattr(raster, "parameters", {}) or {})
    kernel = KERNELS_ES.get(str(raster.kernel), str(raster.kernel))
    convention = str(params.get("bandwidth_convention", "search radius"))
    radius_word = (
        "desviación estándar" if convention == "standard deviation" else "radio de búsqueda"
    )
    rule = params.get("bandwidth_rule")
    rule_text = BANDWIDTH_RULES_ES.get(str(rule), str(rule)) if rule else None
    bits = [f"Núcleo {kernel}"]
    radius = f"{radius_word}: {length_text(raster.bandwidth)}"
    if rule_text:
        radius += f" ({rule_text})"
    bits.append(radius)
    cell = f"celdas de {length_text(raster.cell_size)}"
    cell_rule = params.get("cell_size_rule")
    if cell_rule and cell_rule != "given":
        cell += f" ({_cell_rule_es(str(cell_rule))})"
    bits.append(cell)
    weights = params.get("weights")
    if weights == "harm":
        bits.append("cada incidente pesa según la gravedad del delito")
    elif weights:
        bits.append(f"ponderada por {weights}")
    return "; ".join(bits)


def _cell_rule_es(rule: str) -> str:
    """Return the Spanish of a :func:`parsc_geo.grid.auto_cell_size` rule."""
    table = {
        "search radius": "radio de búsqueda",
        "shorter side of the extent": "lado menor de la extensión",
        "the 50 m minimum": "el mínimo de 50 m",
        "grid limited to": "cuadrícula limitada a",
        "cells": "celdas",
    }
    for english, spanish in table.items():
        rule = rule.replace(english, spanish)
    return rule


# ---------------------------------------------------------------- historical accuracy
ACCURACY_COLUMNS: tuple[str, ...] = ("method", "coverage_pct", "hit_rate", "pai", "pei_star")


def accuracy_rows(accuracy: Any) -> list[dict[str, Any]]:
    """Return the rows of an ``accuracy`` argument of :func:`parsc_geo.maps.write_atlas`.

    Accepts a :class:`parsc_geo.evaluation.forecast.Evaluation` (its ``rows()``), a pandas
    DataFrame or a sequence of mappings with at least :data:`ACCURACY_COLUMNS`.

    Raises
    ------
    ConfigError
        When a row lacks one of :data:`ACCURACY_COLUMNS`.
    """
    from .._errors import ConfigError

    if accuracy is None:
        return []
    if hasattr(accuracy, "rows") and callable(accuracy.rows):
        rows: Iterable[Mapping[str, Any]] = accuracy.rows()
    elif hasattr(accuracy, "to_dict"):
        rows = accuracy.to_dict("records")
    else:
        rows = accuracy
    out = []
    for row in rows:
        missing = [c for c in ACCURACY_COLUMNS if c not in row]
        if missing:
            raise ConfigError(
                f"una fila de accuracy no tiene {', '.join(missing)}",
                hint="use Evaluation.rows() de parsc_geo.evaluation, o filas con "
                + ", ".join(ACCURACY_COLUMNS),
            )
        out.append(dict(row))
    return out


def accuracy_for(rows: Sequence[Mapping[str, Any]], province: str | None) -> list[dict[str, Any]]:
    """Return the rows of ``province`` when it has some, else those of the whole area.

    Rows without ``provincia`` (or with an empty one) are the whole study area's; names are
    compared without accents or case.
    """
    from .._text import fold

    def place(row: Mapping[str, Any]) -> str:
        value = row.get("provincia")
        return "" if value is None or value != value else fold(str(value))

    if province:
        own = [dict(r) for r in rows if place(r) == fold(province)]
        if own:
            return own
    return [dict(r) for r in rows if place(r) == ""]


def accuracy_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return the "Precisión histórica" panel: one line per area budget and method.

    Each line says which share of the following period's crimes the marked cells would have
    held in that share of the area (hit rate), with PAI and PEI*, the counts baseline first.
    """
    if not rows:
        return []
    baselines = ("counts", "counts_last")
    order = {name: i for i, name in enumerate(baselines)}
    lines: list[str] = []
    for coverage in sorted({float(r["coverage_pct"]) for r in rows}):
        at = [r for r in rows if float(r["coverage_pct"]) == coverage]
        at.sort(key=lambda r: (order.get(str(r["method"]), len(order)), str(r["method"])))
        share = f"{es_num(coverage) if coverage.is_integer() else es_short(coverage)} %"
        for r in at:
            name = METHODS_ES.get(str(r["method"]), str(r["method"]))
            lines.append(
                f"En el {share} del área, {name}: habría contenido el "
                f"{percent(float(r['hit_rate']))} de los delitos del periodo siguiente "
                f"(PAI {es_short(float(r['pai']))}; PEI* {es_short(float(r['pei_star']))})."
            )
    folds = {r.get("n_folds") for r in rows if r.get("n_folds") is not None}
    if folds:
        n = max(int(f) for f in folds if f is not None)
        lines.append(
            f"Medido en {es_num(n)} prueba(s) retrospectiva(s): cada una marca las celdas con "
            "los datos anteriores a un mes y cuenta los delitos de ese mes."
        )
    lines.append(
        "PAI: cuántas veces más delitos por km² que el promedio del área. PEI*: parte de lo "
        "mejor posible con esa misma área (1 = óptimo)."
    )
    return lines
