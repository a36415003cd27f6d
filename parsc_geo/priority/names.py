"""Names of provinces and districts as published: with their accents.

The bundled INEI boundaries (via mapsPERU) write most names with accents (Celendín, Jaén,
Contumazá), the population tables in capitals without them (CELENDIN). Published tables and
maps take the boundaries' names, corrected by the name table ``data/nombres_territorios.csv``
where the boundaries lost an accent (the district of Contumazá is "Contumaza" there). Each
row of the table gives the UBIGEO, the name to publish and the name found in the boundaries,
which a test checks so that a new boundary file cannot silently misname a unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Final

#: File of the name table in ``parsc_geo.data``.
NAME_TABLE: Final = "nombres_territorios.csv"


@lru_cache(maxsize=1)
def name_table() -> dict[str, str]:
    """Return UBIGEO → published name of the units whose boundary name lacks an accent."""
    import csv

    with resources.files("parsc_geo.data").joinpath(NAME_TABLE).open(encoding="utf-8") as fh:
        return {row["ubigeo"]: row["nombre"] for row in csv.DictReader(fh)}


def unit_names(level: str, codes: Iterable[str]) -> dict[str, str]:
    """Return the published name of each unit.

    Parameters
    ----------
    level
        ``"provincia"`` (4-digit codes), ``"distrito"`` (6 digits) or ``"departamento"`` (2).
    codes
        The units' UBIGEO codes.

    Returns
    -------
    dict
        Code → name with accents (title case as in the boundaries: ``"Contumazá"``); codes
        unknown to the boundaries are left out.
    """
    from ..boundaries import load_departments, load_districts, load_provinces

    wanted = sorted({str(c) for c in codes})
    if not wanted:
        return {}
    if level == "departamento":
        frame = load_departments()
        names = dict(zip(frame["ubigeo_dep"], frame["departamento"], strict=True))
    elif level == "provincia":
        frame = load_provinces(prefix=wanted)
        names = dict(zip(frame["ubigeo_prov"], frame["provincia"], strict=True))
    else:
        frame = load_districts(prefix=wanted)
        names = dict(zip(frame["ubigeo"], frame["distrito"], strict=True))
    table = name_table()
    return {c: table.get(c, str(names[c])) for c in wanted if c in names}
