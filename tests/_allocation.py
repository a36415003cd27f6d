"""The district rule of the synthetic sample, recomputed from the raw national files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parsc_geo._data import boundaries_dir


def assert_follows_district_rule(clean: pd.DataFrame, department: str) -> None:
    """Check w = 0.5 · population share + 0.5 · RENADEF share among a department's districts.

    Every district's count of every crime type must be within one of its quota (largest
    remainder), the quota computed here from ``peru_poblacion_distrital.csv`` and
    ``peru_faltas_renadef2017_por_comisaria.csv``.
    """
    root = boundaries_dir()
    pop = pd.read_csv(root / "peru_poblacion_distrital.csv", dtype={"ubigeo": str})
    pop = pop[pop["ubigeo"].str.startswith(department)].set_index("ubigeo").sort_index()
    faltas = pd.read_csv(root / "peru_faltas_renadef2017_por_comisaria.csv", dtype=str)
    faltas = faltas[faltas["UBIGEO"].str.startswith(department)]
    work = faltas.assign(F=pd.to_numeric(faltas["FALTAS"]).fillna(0)).groupby("UBIGEO")["F"].sum()
    work = work.reindex(pop.index, fill_value=0.0).to_numpy(dtype=float)
    types = ["delito_generico", "delito_especifico", "modalidad"]
    observed = clean.groupby([*types, "ubigeo"]).size()
    for (gen, esp, mod), n in clean.groupby(types).size().items():
        if esp == "ABIGEATO":
            p = pop["pob_rural_2017"].to_numpy(dtype=float)
        elif mod == "VIOLENCIA FAMILIAR" or esp == "LIBERTAD SEXUAL":
            p = pop["poblacion_total_2017"].to_numpy(dtype=float)
        else:
            p = pop["pob_urbana_2017"].to_numpy(dtype=float)
        quota = n * (0.5 * p / p.sum() + 0.5 * work / work.sum())
        got = observed.loc[(gen, esp, mod)].reindex(pop.index, fill_value=0).to_numpy()
        assert np.all(np.abs(got - quota) < 1.0), (esp, mod)
