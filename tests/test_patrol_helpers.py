"""Small hand-built inputs for the patrol tests (no network, no bundled sample needed)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

UTM = "EPSG:32717"
X0, Y0 = 774_000.0, 9_207_000.0
COMISARIA = "COMISARIA PNP DEMO"
#: Sector label → x offset (m); deliberately listed out of natural order.
SECTORS = {"SECTOR 10": 2_000.0, "SECTOR 2": 1_000.0, "SECTOR 1": 0.0}


def sector_layer() -> gpd.GeoDataFrame:
    """Three sectors of 1000 m × 500 m, each split into SUB SECTOR A (west) and B (east)."""
    rows, geoms = [], []
    for sector, dx in SECTORS.items():
        for k, sub in enumerate(("SUB SECTOR B", "SUB SECTOR A")[::-1]):
            x = X0 + dx + k * 500
            geoms.append(box(x, Y0, x + 500, Y0 + 500))
            rows.append(
                {"comisaria": COMISARIA, "comisaria_id": "9999", "sector": sector, "subsector": sub}
            )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=UTM).to_crs("EPSG:4326")


def _incident(i, x, y, when, known, sector, sub, esp="HURTO", mod="SIMPLE", harm=1.0):
    return {
        "incident_id": f"inc-{i:04d}",
        "occurred_at": when,
        "time_known": known,
        "delito_generico": "CONTRA EL PATRIMONIO",
        "delito_especifico": esp,
        "modalidad": mod,
        "fenomeno": "patrimonio_espacio_publico",
        "harm": harm,
        "label_raw": f"{esp} {mod}",
        "label_known": True,
        "descripcion": "",
        "comisaria_reportada": "",
        "sector_reportado": "",
        "source": "fixture.csv",
        "source_row": i + 1,
        "flags": "",
        "at_station": False,
        "ubigeo": "060101",
        "distrito": "CAJAMARCA",
        "provincia": "CAJAMARCA",
        "comisaria": COMISARIA,
        "comisaria_id": "9999",
        "sector": sector,
        "subsector": sub,
        "geometry": Point(x, y),
    }


def incidents(seed: int = 7) -> gpd.GeoDataFrame:
    """Incidents: two tight clusters in SECTOR 1, one in SECTOR 2, scatter everywhere.

    Cluster P (SECTOR 1, SUB SECTOR A): 12 robberies at 20–21 h on Fridays.
    Cluster Q (SECTOR 1, SUB SECTOR B): 7 thefts at 08–09 h on Mondays.
    Cluster R (SECTOR 2, SUB SECTOR A): 6 thefts at 14 h on Saturdays.
    Scatter: 30 incidents over all sectors, 8 of them with unknown time.
    """
    rng = np.random.default_rng(seed)
    rows = []
    tz = "America/Lima"
    friday = pd.Timestamp("2020-03-06 20:00", tz=tz)
    monday = pd.Timestamp("2020-03-02 08:00", tz=tz)
    saturday = pd.Timestamp("2020-03-07 14:00", tz=tz)
    i = 0
    for k in range(12):
        x, y = X0 + 150 + rng.uniform(-15, 15), Y0 + 350 + rng.uniform(-15, 15)
        when = friday + pd.Timedelta(weeks=k % 4, minutes=int(rng.integers(0, 110)))
        rows.append(
            _incident(i, x, y, when, True, "SECTOR 1", "SUB SECTOR A", "ROBO", "AGRAVADO", 3.0)
        )
        i += 1
    for k in range(7):
        x, y = X0 + 850 + rng.uniform(-15, 15), Y0 + 150 + rng.uniform(-15, 15)
        when = monday + pd.Timedelta(weeks=k % 3, minutes=int(rng.integers(0, 110)))
        rows.append(_incident(i, x, y, when, True, "SECTOR 1", "SUB SECTOR B"))
        i += 1
    for k in range(6):
        x, y = X0 + 1_250 + rng.uniform(-15, 15), Y0 + 450 + rng.uniform(-15, 15)
        when = saturday + pd.Timedelta(weeks=k % 2, minutes=int(rng.integers(0, 50)))
        rows.append(_incident(i, x, y, when, True, "SECTOR 2", "SUB SECTOR A"))
        i += 1
    for k in range(30):
        dx = list(SECTORS.values())[k % 3]
        sector = list(SECTORS)[k % 3]
        x, y = X0 + dx + rng.uniform(5, 995), Y0 + rng.uniform(5, 495)
        sub = "SUB SECTOR A" if x - X0 - dx < 500 else "SUB SECTOR B"
        day = pd.Timestamp("2020-03-01", tz=tz) + pd.Timedelta(days=int(rng.integers(0, 60)))
        known = k >= 8
        when = day + pd.Timedelta(hours=int(rng.integers(0, 24))) if known else day
        rows.append(_incident(i, x, y, when, known, sector, sub, "HURTO", "AGRAVADO", 2.0))
        i += 1
    frame = pd.DataFrame(rows)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.tz_convert(tz)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=UTM).to_crs("EPSG:4326")
