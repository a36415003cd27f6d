"""Crime taxonomy: Código Penal headings, label normalisation, fenómenos, harm weights, colours.

Police crime maps and registers write the same offence in many ways ("VIOL. FAM",
"Violencia familiar", "LESIONES - VIOLENCIA FAMILIAR"). This module maps free-text labels to the
three levels the PNP statistics and the PARSC 2021 plan use — ``delito_generico`` /
``delito_especifico`` / ``modalidad`` (upper case, no accents, exactly as in the plan's table
*Delitos de mayor incidencia, región Cajamarca, enero–octubre 2020*) — to the plan's four
fenómenos (section 2.7) or ``"otros"``, and to a harm weight per modalidad.

The tables live in ``parsc_geo/data/``:

``taxonomia.csv``
    One row per canonical (genérico, específico, modalidad) triple with its fenómeno, the
    Código Penal article that fixes its harm weight, whether it is sensitive (column
    ``sensible``: never located in public outputs, see :mod:`parsc_geo.privacy`) and its known
    aliases (``;``-separated).
``codigo_penal_penas.csv``
    Penalties per article of the Código Penal (D. Leg. 635) as in force 2020–2025, read from the
    Editora Perú edition updated to 17/10/2025 (transcription ``stg101/codigo-penal`` at commit
    ``ce8c7fb``); see the ``fuente`` and ``verificado`` columns.

Unknown labels are never guessed: they keep their text (upper case, accents removed) as
``modalidad`` under ``OTROS DELITOS`` / ``OTROS``, get ``label_known = False`` and are reported
by the ingestion. A missing label gives ``OTROS DELITOS`` / ``OTROS`` / ``OTROS``, also with
``label_known = False``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Final

from ._errors import ConfigError
from ._text import strip_accents

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import pandas as pd

#: Harm rule used when none is given (see :func:`harm_weights`).
DEFAULT_HARM_RULE: Final[str] = "min_days"
#: Available harm rules.
HARM_RULES: Final[tuple[str, ...]] = ("min_days", "lower_third_days", "count")

#: Article 29 of the Código Penal: general minimum (2 days) and maximum (35 years) of the
#: temporary prison sentence, used where an article states only one bound.
GENERAL_MIN_DAYS: Final[float] = 2.0
GENERAL_MAX_YEARS: Final[float] = 35.0
#: Weight of a falta (no prison sentence): one day, below the 2-day minimum of any delito.
FALTA_DAYS: Final[float] = 1.0
DAYS_PER_YEAR: Final[float] = 365.0

#: Canonical genérico, específico and modalidad of a label that is not recognised.
UNKNOWN_GENERICO: Final[str] = "OTROS DELITOS"
UNKNOWN_ESPECIFICO: Final[str] = "OTROS"

#: Station-map legend colours by delito genérico (colour-blind-safe palette after Okabe & Ito
#: 2008 and Tol 2021; "otros" and "faltas" in greys).
GENERICO_COLORS: Final[dict[str, str]] = {
    "CONTRA EL PATRIMONIO": "#D55E00",
    "CONTRA LA VIDA EL CUERPO Y LA SALUD": "#882255",
    "CONTRA LA LIBERTAD": "#AA4499",
    "CONTRA LA SEGURIDAD PUBLICA": "#0072B2",
    "CONTRA LA FAMILIA": "#E69F00",
    "CONTRA LA FE PUBLICA": "#009E73",
    "CONTRA LA ADMINISTRACION PUBLICA": "#56B4E9",
    "COMETIDOS POR PARTICULARES": "#44AA99",
    "CONTRA EL ORDEN FINANCIERO Y MONETARIO": "#999933",
    "CONTRA LA TRANQUILIDAD PUBLICA": "#332288",
    "DELITOS INFORMATICOS": "#117733",
    "FALTAS": "#AAAAAA",
    "OTROS DELITOS": "#555555",
}

#: Display text (Spanish, with accents) of each delito genérico.
GENERICO_LABELS_ES: Final[dict[str, str]] = {
    "CONTRA EL PATRIMONIO": "Contra el patrimonio",
    "CONTRA LA VIDA EL CUERPO Y LA SALUD": "Contra la vida, el cuerpo y la salud",
    "CONTRA LA LIBERTAD": "Contra la libertad",
    "CONTRA LA SEGURIDAD PUBLICA": "Contra la seguridad pública",
    "CONTRA LA FAMILIA": "Contra la familia",
    "CONTRA LA FE PUBLICA": "Contra la fe pública",
    "CONTRA LA ADMINISTRACION PUBLICA": "Contra la administración pública",
    "COMETIDOS POR PARTICULARES": "Cometidos por particulares (contra la administración pública)",
    "CONTRA EL ORDEN FINANCIERO Y MONETARIO": "Contra el orden financiero y monetario",
    "CONTRA LA TRANQUILIDAD PUBLICA": "Contra la tranquilidad pública",
    "DELITOS INFORMATICOS": "Delitos informáticos",
    "FALTAS": "Faltas",
    "OTROS DELITOS": "Otros delitos",
}

#: SIDPOL open-data ``P_MODALIDADES`` values (literal, §1.6 of the formats reference) → fenómeno,
#: so that point data and SIDPOL district counts are grouped alike.
SIDPOL_MODALIDADES_FENOMENO: Final[dict[str, str]] = {
    "Otros": "otros",
    "Violencia contra la mujer e integrantes": "violencia_mujer",
    "Violencia contra la mujer e integrantes del grupo familiar": "violencia_mujer",
    "Hurto": "patrimonio_espacio_publico",
    "Robo": "patrimonio_espacio_publico",
    "Estafa": "patrimonio_espacio_publico",
    "Extorsión": "bandas_criminales",
    "Secuestro": "bandas_criminales",
    "Homicidio": "muertes_violentas",
}

#: Fenómenos whose every category is sensitive: violence against women and members of the
#: family group (Ley 30364: feminicidio, agresiones, violencia familiar), sexual offences and
#: trata, grouped by the PARSC 2021 plan as ``violencia_mujer``.
SENSITIVE_FENOMENOS: Final[frozenset[str]] = frozenset({"violencia_mujer"})

#: Código Penal headings — (delito genérico, delito específico), None for every específico —
#: whose every category is sensitive, whatever the modalidad: offences against sexual freedom
#: (arts. 170–183-B: violación, tocamientos, acoso y chantaje sexual, estupro, proxenetismo) and
#: offences against the family (arts. 139–150: alimentos, patria potestad, sustracción de
#: menores), which happen at homes and often have minors as victims.
SENSITIVE_HEADINGS: Final[frozenset[tuple[str, str | None]]] = frozenset(
    {
        ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL"),
        ("CONTRA LA FAMILIA", None),
    }
)
_SEPARATORS = re.compile(r"\s+-\s+|\s*:\s*|\s*>\s*|\s*\|\s*")
_OUTPUT_COLUMNS = (
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "harm",
    "label_known",
)


def label_key(text: object) -> str:
    """Return the matching key of a crime label.

    Upper case, accents and ``Ñ`` folded to ASCII, punctuation turned into spaces, a leading
    "DELITO(S)" and a trailing "(DELITO)" removed, spaces collapsed.

    Examples
    --------
    >>> label_key("Viol. Fam")
    'VIOL FAM'
    >>> label_key("DELITO CONTRA EL PATRIMONIO")
    'CONTRA EL PATRIMONIO'
    >>> label_key("PATRIMONIO (DELITO)")
    'PATRIMONIO'
    """
    if text is None:
        return ""
    s = strip_accents(text).upper()
    s = re.sub(r"[^A-Z0-9]+", " ", s).strip()
    s = re.sub(r"^(?:DELITOS?|DEL)\s+", "", s)
    s = re.sub(r"\s+DELITOS?$", "", s)
    if s in ("NAN", "NONE", "NULL", "NA", "N A"):
        return ""
    return s


def display_upper(text: object) -> str:
    """Return ``text`` in the canonical style: upper case, accents removed except ``Ñ``."""
    s = unicodedata.normalize("NFC", str(text)).upper().replace("Ñ", "\0")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).replace("\0", "Ñ")
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True)
class _Taxonomy:
    """The loaded tables: canonical triples and an alias index."""

    triples: pd.DataFrame
    alias_index: dict[str, tuple[str, str, str]]
    triple_index: dict[tuple[str, str, str], tuple[str, str, str]]
    generico_index: dict[str, str]


def _read_data_csv(name: str) -> pd.DataFrame:
    import pandas as pd

    with resources.files("parsc_geo.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _taxonomy() -> _Taxonomy:
    triples = _read_data_csv("taxonomia.csv")
    alias_index: dict[str, tuple[str, str, str]] = {}
    triple_index: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    generico_index: dict[str, str] = {}
    for row in triples.to_dict("records"):
        triple = (str(row["delito_generico"]), str(row["delito_especifico"]), str(row["modalidad"]))
        triple_index[(label_key(triple[0]), label_key(triple[1]), label_key(triple[2]))] = triple
        generico_index.setdefault(label_key(triple[0]), triple[0])
        names = [a for a in str(row["alias"]).split(";") if a.strip()]
        if triple[1] != "OTROS" and triple[2] != "OTROS":
            names.append(f"{triple[1]} {triple[2]}")
        for name in names:
            alias_index.setdefault(label_key(name), triple)
    return _Taxonomy(triples, alias_index, triple_index, generico_index)


def canonical_triples() -> pd.DataFrame:
    """Return the canonical (genérico, específico, modalidad) table with fenómeno and article.

    Returns
    -------
    pandas.DataFrame
        Columns ``delito_generico``, ``delito_especifico``, ``modalidad``, ``fenomeno``,
        ``articulo``, ``sensitive`` (bool, the ``sensible`` column of ``taxonomia.csv``) and
        ``alias``.
    """
    df = _taxonomy().triples.copy()
    df["sensitive"] = df.pop("sensible").eq("si")
    return df[
        [
            "delito_generico",
            "delito_especifico",
            "modalidad",
            "fenomeno",
            "articulo",
            "sensitive",
            "alias",
        ]
    ]


def heading_sensitive(generico: object, especifico: object, fenomeno: object = None) -> bool:
    """Return whether a category is sensitive by its fenómeno or Código Penal heading.

    ``taxonomia.csv`` flags every canonical triple; this rule also covers categories written
    with the right heading but a modalidad the table does not list.

    Examples
    --------
    >>> heading_sensitive("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL")
    True
    >>> heading_sensitive("CONTRA EL PATRIMONIO", "ROBO", "patrimonio_espacio_publico")
    False
    """
    g, e = label_key(generico), label_key(especifico)
    if str(fenomeno) in SENSITIVE_FENOMENOS:
        return True
    return any(
        label_key(hg) == g and (he is None or label_key(he) == e) for hg, he in SENSITIVE_HEADINGS
    )


def penalties() -> pd.DataFrame:
    """Return the Código Penal penalties table bundled with parsc-geo (years, per article)."""
    import pandas as pd

    df = _read_data_csv("codigo_penal_penas.csv")
    for col in ("pena_min_anios", "pena_max_anios"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
    return df


def _harm_of_article(row: Mapping[str, object], rule: str) -> float:
    tipo = str(row.get("tipo_pena") or "")
    pmin = row.get("pena_min_anios")
    pmax = row.get("pena_max_anios")
    life = "cadena perpetua" in tipo
    prison = "privativa" in tipo or life
    if rule == "count":
        return 1.0
    if not prison:
        return FALTA_DAYS
    lo = GENERAL_MAX_YEARS if life else (float(pmin) if _isnum(pmin) else None)  # type: ignore[arg-type]
    hi = GENERAL_MAX_YEARS if life else (float(pmax) if _isnum(pmax) else GENERAL_MAX_YEARS)  # type: ignore[arg-type]
    lo_days = lo * DAYS_PER_YEAR if lo is not None else GENERAL_MIN_DAYS
    if rule == "min_days":
        return lo_days
    hi_days = hi * DAYS_PER_YEAR
    return lo_days + (hi_days - lo_days) / 6.0


def _isnum(value: object) -> bool:
    try:
        return value is not None and value == value and float(value) == float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def harm_weights(
    rule: str | None = None, overrides: Mapping[tuple[str, str], float] | None = None
) -> pd.DataFrame:
    """Return the harm weight of every canonical modalidad, with its rule and sources.

    Parameters
    ----------
    rule
        ``"min_days"`` (default): the minimum of the penalty range of the modalidad's article,
        in days of prison (years × 365). ``"lower_third_days"``: the centre of the lower third of
        the range (the judge's starting third, art. 45-A). ``"count"``: every incident weighs 1.
    overrides
        ``{(delito_especifico, modalidad): weight}`` replacing single weights (e.g. from a
        config file).

    Returns
    -------
    pandas.DataFrame
        One row per canonical triple: ``delito_generico``, ``delito_especifico``, ``modalidad``,
        ``modalidad_label``, ``fenomeno``, ``articulo``, ``delito_cp``, ``pena_min_anios``,
        ``pena_max_anios``, ``tipo_pena``, ``harm``, ``regla`` and ``fuente``.

    Notes
    -----
    The weight follows the Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016), which
    weighs each offence by the days of imprisonment its sentencing starting point carries. In
    Peru the reference is the penalty range of the Código Penal (D. Leg. 635) as in force
    2020–2025: where an article states no minimum ("no mayor de X años") the general minimum of
    2 days applies, where it states no maximum the general maximum of 35 years applies (art. 29);
    life imprisonment (cadena perpetua) counts as 35 years; faltas (arts. 441–445), punished with
    community service or day-fines, weigh 1 day. Modalidades without a single article
    (``OTROS`` rows) take the general minimum of 2 days. Each modalidad is tied to the base
    article the police label most often means (the label rarely identifies an aggravated
    paragraph), as documented in ``codigo_penal_penas.md`` of the plan's reference material.

    References
    ----------
    Sherman, L., Neyroud, P. W., & Neyroud, E. (2016). The Cambridge Crime Harm Index: Measuring
    total harm from crime based on sentencing guidelines. Policing, 10(3), 171–183.
    Código Penal del Perú, D. Leg. 635, Editora Perú, texto actualizado al 17/10/2025.
    """
    import pandas as pd

    from .schema import modalidad_label

    rule = rule or DEFAULT_HARM_RULE
    if rule not in HARM_RULES:
        raise ConfigError(
            f"la regla de daño debe ser una de {', '.join(HARM_RULES)}; se recibió {rule!r}",
            hint="use 'min_days' (mínimo del rango de la pena en días) salvo que tenga un motivo",
        )
    triples = canonical_triples()
    pen = {str(r["articulo"]): r for r in penalties().to_dict("records")}
    rows = []
    for t in triples.to_dict("records"):
        art = str(t["articulo"])
        esp, mod = str(t["delito_especifico"]), str(t["modalidad"])
        if art and art in pen:
            p = pen[art]
            rec: dict[str, object] = {
                "delito_cp": p["delito"],
                "pena_min_anios": p["pena_min_anios"],
                "pena_max_anios": p["pena_max_anios"],
                "tipo_pena": p["tipo_pena"],
                "fuente": p["fuente"],
            }
            harm = _harm_of_article(rec, rule)
        else:
            rec = {
                "delito_cp": "",
                "pena_min_anios": float("nan"),
                "pena_max_anios": float("nan"),
                "tipo_pena": "",
                "fuente": "Código Penal art. 29 (mínimo general)",
            }
            harm = 1.0 if rule == "count" else GENERAL_MIN_DAYS
        rows.append(
            {
                "delito_generico": t["delito_generico"],
                "delito_especifico": esp,
                "modalidad": mod,
                "modalidad_label": modalidad_label(esp, mod),
                "fenomeno": t["fenomeno"],
                "articulo": art,
                **rec,
                "harm": float(harm),
                "regla": rule,
            }
        )
    df = pd.DataFrame(rows)
    if overrides:
        known = set(zip(df["delito_especifico"], df["modalidad"], strict=True))
        bad = [k for k in overrides if tuple(k) not in known]
        if bad:
            raise ConfigError(
                f"los ajustes de daño nombran modalidades desconocidas: {bad!r}",
                hint="use pares (delito_especifico, modalidad) como en harm_weights()",
            )
        for (esp, mod), weight in overrides.items():
            if not (isinstance(weight, int | float) and weight >= 0):
                raise ConfigError(
                    f"el peso de daño de {esp} / {mod} debe ser >= 0; se recibió {weight!r}"
                )
            mask = (df["delito_especifico"] == esp) & (df["modalidad"] == mod)
            df.loc[mask, "harm"] = float(weight)
            df.loc[mask, "regla"] = "configurado"
    return df


def _resolve_key(key: str) -> tuple[str, str, str] | None:
    tax = _taxonomy()
    if not key:
        return None
    hit = tax.alias_index.get(key)
    if hit is not None:
        return hit
    return None


@lru_cache(maxsize=1)
def _sensitive_triples() -> frozenset[tuple[str, str, str]]:
    table = _taxonomy().triples
    flagged = table[table["sensible"].eq("si")]
    return frozenset(
        zip(
            flagged["delito_generico"],
            flagged["delito_especifico"],
            flagged["modalidad"],
            strict=True,
        )
    )


def _resolve_label(label: object) -> tuple[str, str, str] | None:
    """Resolve one free-text label; a compound naming a sensitive category in any part is it.

    "VIOLENCIA FAMILIAR - LESIONES LEVES" is a family-violence complaint, whatever the injury:
    when the parts of a compound disagree and one is sensitive, the sensitive reading wins, so
    that it is protected on public outputs.
    """
    hit = _resolve_compound(label)
    if hit is None or hit in _sensitive_triples():
        return hit
    parts = [p for p in _SEPARATORS.split(str(label).strip()) if label_key(p)]
    if len(parts) > 1:
        for part in parts:
            other = _resolve_key(label_key(part))
            if other is not None and other in _sensitive_triples():
                return other
    return hit


def _resolve_compound(label: object) -> tuple[str, str, str] | None:
    """Resolve one free-text label (alias, or 'GENERICO - MODALIDAD' compound)."""
    if label is None:
        return None
    text = str(label).strip()
    hit = _resolve_key(label_key(text))
    if hit is not None:
        return hit
    parts = [p for p in _SEPARATORS.split(text) if label_key(p)]
    if len(parts) < 2:
        return None
    last = _resolve_key(label_key(parts[-1]))
    if last is not None and last != ("OTROS DELITOS", "OTROS", "OTROS"):
        return last
    for n in range(len(parts) - 1, 0, -1):
        prefix = " ".join(parts[:n])
        head = _resolve_key(label_key(prefix))
        if head is not None:
            if label_key(parts[-1]) in ("OTROS", "OTRO") and head[1] != "OTROS":
                return _otros_of(head[0], head[1])
            return head if last is None or head[2] == "OTROS" else last
    combined = _resolve_key(label_key(" ".join(parts)))
    return combined if combined is not None else last


def _otros_of(generico: str, especifico: str) -> tuple[str, str, str]:
    tax = _taxonomy()
    triple = tax.triple_index.get((label_key(generico), label_key(especifico), "OTROS"))
    if triple is not None:
        return triple
    return tax.triple_index[(label_key(generico), "OTROS", "OTROS")]


def _is_sensitive_triple(triple: tuple[str, str, str]) -> bool:
    return triple in _sensitive_triples() or heading_sensitive(triple[0], triple[1])


def _sensitive_heading(generico: str, especifico: str) -> tuple[str, str, str] | None:
    """Return the sensitive category that a row's genérico or específico column names, if any.

    The Código Penal heading decides sensitivity whatever the modalidad says: a row filed under
    "VIOLACION DE LA LIBERTAD SEXUAL" with modalidad "ROBO" is a sexual-offence complaint (the
    modalidad column is often filled with a generic word), so it must never be published as a
    robbery at the victim's home. Same rule as compound labels (:func:`_resolve_label`).
    """
    for key in (especifico, generico):
        if not key or key in ("OTROS", "OTRO"):
            continue
        hit = _resolve_key(key)
        if hit is not None and _is_sensitive_triple(hit):
            return hit
    if heading_sensitive(generico, especifico):
        tax = _taxonomy()
        for triple in (
            tax.triple_index.get((generico, especifico, "OTROS")),
            tax.triple_index.get((generico, "OTROS", "OTROS")),
        ):
            if triple is not None:
                return triple
    return None


def _resolve_parts(
    label: object, generico: object, especifico: object, modalidad: object
) -> tuple[str, str, str] | None:
    """Resolve a row from separate columns (any may be empty) and/or a free-text label."""
    tax = _taxonomy()
    g, e, m = label_key(generico), label_key(especifico), label_key(modalidad)
    if g or e or m:
        direct = tax.triple_index.get((g, e, m))
        if direct is not None:
            return direct
        candidates = []
        if e and m:
            candidates.append(f"{e} {m}")
        if m and m not in ("OTROS", "OTRO"):
            candidates.append(m)
        if e and e not in ("OTROS", "OTRO"):
            candidates.append(e)
        for cand in candidates:
            hit = _resolve_key(cand)
            if hit is not None and hit[0] != UNKNOWN_GENERICO:
                if _is_sensitive_triple(hit):
                    return hit
                return _sensitive_heading(g, e) or hit
        if g and (not m or m in ("OTROS", "OTRO")):
            head = _resolve_key(g)
            if head is not None:
                return _otros_of(head[0], e if e and not m else "OTROS") if e else head
    text = str(label).strip() if label is not None else ""
    if text and label_key(text):
        return _resolve_label(text)
    return None


def normalise_labels(
    labels: pd.Series | None,
    *,
    generico: pd.Series | None = None,
    especifico: pd.Series | None = None,
    modalidad: pd.Series | None = None,
    harm_rule: str | None = None,
    harm_overrides: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """Map free-text crime labels to the canonical taxonomy.

    Parameters
    ----------
    labels
        One free-text label per row (e.g. ``"HURTO AGRAVADO DURANTE LA NOCHE"``, ``"Viol. fam"``,
        ``"DELITO CONTRA EL PATRIMONIO - ROBO"``). May be None when the separate columns are given.
    generico, especifico, modalidad
        Optional separate columns (index-aligned with ``labels``) when the source splits the
        label into levels, as the PNP tables and SIDPOL records do. A complete canonical triple is
        taken as it is; otherwise ``especifico + modalidad``, ``modalidad``, ``especifico`` and
        ``generico`` are tried in that order, then ``labels``.
    harm_rule, harm_overrides
        See :func:`harm_weights`.

    Returns
    -------
    pandas.DataFrame
        Index-aligned with the input; columns ``delito_generico``, ``delito_especifico``,
        ``modalidad``, ``fenomeno``, ``harm`` (float), ``label_known`` (bool). Unknown labels get
        ``OTROS DELITOS`` / ``OTROS`` / the label text (upper case, no accents), fenómeno
        ``"otros"``, the weight of ``OTROS DELITOS`` and ``label_known = False``.

    Notes
    -----
    Resolution is done once per distinct input combination and broadcast back, so a million
    rows with a few hundred distinct labels cost a factorisation, not a Python loop per row.

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_labels(pd.Series(["Viol. Fam", "TID"]))["modalidad"].tolist()
    ['VIOLENCIA FAMILIAR', 'TRAFICO ILICITO DE DROGAS']
    """
    import numpy as np
    import pandas as pd

    series = [s for s in (labels, generico, especifico, modalidad) if s is not None]
    if not series:
        raise ConfigError(
            "normalise_labels requiere labels o al menos una de las columnas de nivel"
        )
    index = series[0].index
    n = len(index)

    def _as_obj(s: pd.Series | None) -> np.ndarray:
        if s is None:
            return np.full(n, "", dtype=object)
        if len(s) != n:
            raise ConfigError(f"las columnas de etiquetas difieren en longitud: {len(s)} != {n}")
        return s.astype(object).where(s.notna(), "").to_numpy(dtype=object)

    cols = [_as_obj(labels), _as_obj(generico), _as_obj(especifico), _as_obj(modalidad)]
    frame = pd.DataFrame({"l": cols[0], "g": cols[1], "e": cols[2], "m": cols[3]})
    codes, uniques = _factorize_rows(frame)
    weights = harm_weights(harm_rule, harm_overrides)
    harm_map: dict[tuple[str, str, str], tuple[str, float]] = {
        (str(r["delito_generico"]), str(r["delito_especifico"]), str(r["modalidad"])): (
            str(r["fenomeno"]),
            float(r["harm"]),
        )
        for r in weights.to_dict("records")
    }
    unknown_harm = harm_map[(UNKNOWN_GENERICO, "OTROS", "OTROS")][1]
    out_rows: list[tuple[str, str, str, str, float, bool]] = []
    for lab, gen, esp, mod in zip(
        uniques["l"].tolist(),
        uniques["g"].tolist(),
        uniques["e"].tolist(),
        uniques["m"].tolist(),
        strict=True,
    ):
        triple = _resolve_parts(lab, gen, esp, mod)
        if triple is None:
            raw = next((str(v) for v in (lab, mod, esp, gen) if label_key(v)), "")
            text = display_upper(raw) if raw else UNKNOWN_ESPECIFICO
            row = (UNKNOWN_GENERICO, UNKNOWN_ESPECIFICO, text, "otros", unknown_harm, False)
            out_rows.append(row)
        else:
            fen, harm = harm_map[triple]
            out_rows.append((*triple, fen, harm, True))
    resolved = pd.DataFrame(out_rows, columns=list(_OUTPUT_COLUMNS))
    out = resolved.iloc[codes].reset_index(drop=True)
    out.index = index
    out["harm"] = out["harm"].astype(float)
    out["label_known"] = out["label_known"].astype(bool)
    return out


def _factorize_rows(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Return integer codes per row and the distinct rows of ``frame`` (all object columns)."""
    import numpy as np
    import pandas as pd

    active = [c for c in frame.columns if frame[c].astype(bool).any()]
    if not active:
        active = [frame.columns[0]]
    if len(active) == 1:
        codes, uniq = pd.factorize(frame[active[0]], sort=False)
        uniques = pd.DataFrame({c: "" for c in frame.columns}, index=range(len(uniq)))
        uniques[active[0]] = np.asarray(uniq, dtype=object)
        return np.asarray(codes), uniques
    sub = frame[active]
    codes_list = [pd.factorize(sub[c], sort=False)[0] for c in active]
    combined = codes_list[0].astype(np.int64)
    for c in codes_list[1:]:
        # re-factorise after each step so the combined code stays below the row count
        combined = pd.factorize(combined * (int(c.max()) + 1) + c)[0].astype(np.int64)
    _, first_idx, inverse = np.unique(combined, return_index=True, return_inverse=True)
    uniques = frame.iloc[first_idx].reset_index(drop=True)
    return np.asarray(inverse).ravel(), uniques


def is_recognised(df: pd.DataFrame) -> pd.Series:
    """Return whether each incident's category is one of the taxonomy's canonical categories.

    An incident is recognised when its (genérico, específico, modalidad) is a row of
    ``taxonomia.csv`` and, if the table has ``label_known``, its label was recognised on import
    (a missing label gives ``OTROS DELITOS / OTROS / OTROS`` with ``label_known = False``).
    Without the three label columns nothing is recognised.

    Returns
    -------
    pandas.Series
        Boolean, index-aligned with ``df``.
    """
    import pandas as pd

    columns = ["delito_generico", "delito_especifico", "modalidad"]
    if not set(columns) <= set(df.columns):
        return pd.Series(False, index=df.index)
    canonical = set(canonical_triples()[columns].itertuples(index=False, name=None))
    keys = pd.MultiIndex.from_arrays([df[c].astype(str) for c in columns])
    result = pd.Series(keys.isin(list(canonical)), index=df.index)
    if "label_known" in df.columns:
        known = df["label_known"]
        if known.dtype != bool:  # read from a file: "False" is not true
            text = known.astype("string").str.strip().str.casefold()
            known = text.isin(["true", "1", "1.0", "si", "sí", "yes"]).fillna(False)
        result &= known.to_numpy(dtype=bool)
    return result.astype(bool)


def is_sensitive(df: pd.DataFrame, *, unknown: bool = True) -> pd.Series:
    """Return whether each incident's category is sensitive: never located in public outputs.

    The taxonomy decides, never keywords in free text. An incident is sensitive when

    1. its canonical category is flagged in ``taxonomia.csv`` (column ``sensible``:
       feminicidio, violencia familiar, trata de personas, every offence against sexual freedom
       or against the family), or
    2. its fenómeno is in :data:`SENSITIVE_FENOMENOS` or its Código Penal heading is in
       :data:`SENSITIVE_HEADINGS` (:func:`heading_sensitive`), or
    3. with ``unknown`` (default), its category is not recognised (:func:`is_recognised`): a
       label the taxonomy does not know cannot be shown not to be sensitive. Add the spelling as
       an alias in ``taxonomia.csv`` to publish it.

    Parameters
    ----------
    df
        Incidents with ``delito_generico``, ``delito_especifico``, ``modalidad`` and
        ``fenomeno`` (any may be missing), and ``label_known`` when known.
    unknown
        Count unrecognised categories as sensitive.

    Returns
    -------
    pandas.Series
        Boolean, index-aligned with ``df``.
    """
    import numpy as np
    import pandas as pd

    columns = ("delito_generico", "delito_especifico", "modalidad", "fenomeno")
    keys = pd.MultiIndex.from_arrays(
        [
            df[c].astype(str).to_numpy() if c in df.columns else np.full(len(df), "", dtype=object)
            for c in columns
        ]
    )
    distinct = keys.unique()
    flagged = _sensitive_triples()
    verdict = np.array(
        [(g, e, m) in flagged or heading_sensitive(g, e, f) for g, e, m, f in distinct],
        dtype=bool,
    )
    result = pd.Series(verdict[distinct.get_indexer(keys)], index=df.index)
    if unknown:
        result |= ~is_recognised(df)
    return result.astype(bool)


def sidpol_fenomeno(values: pd.Series) -> pd.Series:
    """Map SIDPOL open-data ``P_MODALIDADES`` values to fenómeno codes.

    Values are compared after :func:`label_key`, so case and accents do not matter; values that
    are not in :data:`SIDPOL_MODALIDADES_FENOMENO` give ``"otros"``.
    """
    table = {label_key(k): v for k, v in SIDPOL_MODALIDADES_FENOMENO.items()}
    return values.map(lambda v: table.get(label_key(v), "otros")).astype(str)
