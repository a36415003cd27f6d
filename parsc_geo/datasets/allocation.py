"""The documented rule that splits each crime type's incidents across a department's districts.

Rule
----
For crime type ``r`` and district ``d`` the share is

``w[r, d] = 0.5 · P_r[d] / Σ P_r + 0.5 · F[d] / Σ F``

where

* ``F[d]`` is the real police workload of district ``d``: the complaints (faltas) registered in
  2017 by the police stations located in it (INEI RENADEF 2017,
  :func:`parsc_geo.boundaries.load_station_complaints`, column ``FALTAS``, added by ``UBIGEO``);
* ``P_r[d]`` is the 2017 census population of the district that the crime type lives on
  (:func:`parsc_geo.boundaries.load_population`): the **urban** population for most types, the
  **rural** population for abigeato (livestock theft happens in the countryside) and the
  **total** population for violence in the family and sexual offences (they happen at home,
  in towns and villages alike).

Shares are taken within one department (the 127 districts of Cajamarca by default): each
department's volume comes from :mod:`.mix`, and its districts share it by this rule.

Each type's count is then split with the largest-remainder method
(:func:`parsc_geo.datasets.mix.apportion`), so every district's count differs from its exact
quota ``n_r · w[r, d]`` by less than one incident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from .mix import apportion

if TYPE_CHECKING:
    import pandas as pd

#: Weight of the population term (the workload term gets the rest).
POPULATION_WEIGHT: Final[float] = 0.5

#: Population base per crime type: "rural", "total" or (default) "urban".
RURAL_TYPES: Final[frozenset[str]] = frozenset({"ABIGEATO"})
TOTAL_POPULATION_MODALIDADES: Final[frozenset[str]] = frozenset({"VIOLENCIA FAMILIAR"})
TOTAL_POPULATION_ESPECIFICOS: Final[frozenset[str]] = frozenset({"LIBERTAD SEXUAL"})


def population_base(delito_especifico: str, modalidad: str) -> str:
    """Return which 2017 population column drives a crime type: ``urban``, ``rural`` or ``total``.

    Examples
    --------
    >>> population_base("ABIGEATO", "HURTO")
    'rural'
    >>> population_base("LESIONES", "VIOLENCIA FAMILIAR")
    'total'
    >>> population_base("HURTO", "SIMPLE")
    'urban'
    """
    if delito_especifico in RURAL_TYPES:
        return "rural"
    if (
        modalidad in TOTAL_POPULATION_MODALIDADES
        or delito_especifico in TOTAL_POPULATION_ESPECIFICOS
    ):
        return "total"
    return "urban"


def district_inputs(prefix: str | None = None) -> pd.DataFrame:
    """Return the real inputs of the rule, one row per district sorted by ``ubigeo``.

    Parameters
    ----------
    prefix
        UBIGEO prefix of the districts (a department, ``"04"``); default Cajamarca.

    Returns
    -------
    pandas.DataFrame
        ``ubigeo``, ``pob_urbana_2017``, ``pob_rural_2017``, ``poblacion_total_2017`` and
        ``faltas_renadef_2017`` (0 for districts without a station in RENADEF).
    """
    from ..boundaries import load_population, load_station_complaints

    pop = load_population(prefix=prefix)[
        ["ubigeo", "pob_urbana_2017", "pob_rural_2017", "poblacion_total_2017"]
    ].copy()
    faltas = load_station_complaints(prefix=prefix)
    per_district = (
        faltas.assign(FALTAS=faltas["FALTAS"].fillna(0).astype(int))
        .groupby("ubigeo")["FALTAS"]
        .sum()
        .rename("faltas_renadef_2017")
    )
    out = pop.merge(per_district, left_on="ubigeo", right_index=True, how="left")
    out["faltas_renadef_2017"] = out["faltas_renadef_2017"].fillna(0).astype(int)
    return out.sort_values("ubigeo", kind="stable").reset_index(drop=True)


def district_weights(inputs: pd.DataFrame, base: str) -> np.ndarray:
    """Return the shares ``w[r, d]`` of every district for a population base.

    Parameters
    ----------
    inputs
        Output of :func:`district_inputs`.
    base
        ``"urban"``, ``"rural"`` or ``"total"``.

    Returns
    -------
    numpy.ndarray
        Shares in ``inputs`` order, summing to 1. Where a department has none of the
        population base (no rural population in Callao) the workload term takes the whole
        weight, and the reverse.
    """
    column = {
        "urban": "pob_urbana_2017",
        "rural": "pob_rural_2017",
        "total": "poblacion_total_2017",
    }[base]
    pop = inputs[column].to_numpy(dtype=float)
    work = inputs["faltas_renadef_2017"].to_numpy(dtype=float)
    if not pop.sum() > 0:  # e.g. no rural population in Callao: workload alone
        return work / work.sum()
    if not work.sum() > 0:
        return pop / pop.sum()
    return POPULATION_WEIGHT * pop / pop.sum() + (1 - POPULATION_WEIGHT) * work / work.sum()


def allocate(counts: pd.DataFrame, inputs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split each crime type's count across districts with the documented rule.

    Parameters
    ----------
    counts
        Output of :func:`parsc_geo.datasets.mix.crime_counts`.
    inputs
        Output of :func:`district_inputs` (loaded when None).

    Returns
    -------
    pandas.DataFrame
        Long table ``type_index`` (row of ``counts``), ``ubigeo``, ``n`` (> 0 rows only),
        ``quota`` (the exact share before rounding).
    """
    import pandas as pd

    if inputs is None:
        inputs = district_inputs()
    ubigeos = inputs["ubigeo"].to_numpy()
    frames = []
    for i, (esp, mod, n) in enumerate(
        zip(counts["delito_especifico"], counts["modalidad"], counts["n"], strict=True)
    ):
        n_type = int(n)
        if n_type == 0:
            continue
        w = district_weights(inputs, population_base(str(esp), str(mod)))
        shares = apportion(n_type, w)
        keep = shares > 0
        frames.append(
            pd.DataFrame(
                {
                    "type_index": i,
                    "ubigeo": ubigeos[keep],
                    "n": shares[keep],
                    "quota": n_type * w[keep],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
