"""A count table written by hand, as the priority tests build them."""

from __future__ import annotations

import pandas as pd

from parsc_geo.priority.counts import classify_counts


def count_table(rows: list[tuple], source: str = "tabla.csv") -> pd.DataFrame:
    """Return a classified count table from ``(ubigeo, anio, mes, categoria, n)`` rows."""
    df = pd.DataFrame(rows, columns=["ubigeo", "anio", "mes", "categoria", "n"])
    df["anio"] = df["anio"].astype("Int64")
    df["mes"] = df["mes"].astype("Int64")
    df["source"] = source
    df["source_row"] = range(1, len(df) + 1)
    return classify_counts(df)
