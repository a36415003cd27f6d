"""Small, hand-made fixtures for the map tests (Cajamarca city), following the contracts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(1)</script>"

#: Centre of the fixture (Plaza de Armas de Cajamarca, roughly), in UTM 17S metres.
X0, Y0 = 774_500.0, 9_207_500.0
UTM = "EPSG:32717"

# (generico, especifico, modalidad, fenomeno) with how many incidents of each.
KINDS = [
    ("CONTRA EL PATRIMONIO", "HURTO", "SIMPLE", "patrimonio_espacio_publico", 12),
    ("CONTRA EL PATRIMONIO", "ROBO", "AGRAVADO", "patrimonio_espacio_publico", 6),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "LESIONES", "LEVES", "otros", 4),
    ("CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO", "CALIFICADO", "muertes_violentas", 2),
    ("CONTRA LA FAMILIA", "VIOLENCIA FAMILIAR", "VIOLENCIA FAMILIAR", "violencia_mujer", 5),
    ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "VIOLACION SEXUAL", "violencia_mujer", 3),
    (
        "CONTRA LA SEGURIDAD PUBLICA",
        "PELIGRO COMUN",
        "CONDUCCION EN ESTADO DE EBRIEDAD",
        "otros",
        4,
    ),
]
N_INCIDENTS = sum(k[-1] for k in KINDS)  # 36
N_SENSITIVE = 8  # the violencia_mujer rows


def sectors(comisaria: str = "COMISARIA CAJAMARCA I") -> gpd.GeoDataFrame:
    """Two sectors of two 400 m × 400 m subsectors each, west to east, south row then north."""
    rows = []
    labels = [
        ("SECTOR 1", "SUB SECTOR A"),
        ("SECTOR 1", "SUB SECTOR B"),
        ("SECTOR 2", "SUB SECTOR C"),
        ("SECTOR 2", "SUB SECTOR D"),
    ]
    for i, (sec, sub) in enumerate(labels):
        x = X0 - 800 + 400 * i
        rows.append(
            {
                "comisaria": comisaria,
                "comisaria_id": "1",
                "sector": sec,
                "subsector": sub,
                "barrio": f"Barrio {i}",
                "geometry": box(x, Y0 - 200, x + 400, Y0 + 200),
            }
        )
    return gpd.GeoDataFrame(rows, crs=UTM).to_crs("EPSG:4326")


def incidents(*, payload: bool = False, seed: int = 7) -> gpd.GeoDataFrame:
    """36 incidents inside the four subsectors; subsector i gets a fixed share (see below).

    Incidents are placed in subsectors in turn (A, B, C, D, A, ...), so A gets 9, B 9, C 9, D 9.
    Months: January, February and March 2020 in turn (12 each). Hours: known except every
    fifth incident.
    """
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for gen, esp, mod, fen, count in KINDS:
        for _ in range(count):
            sub = k % 4
            x = X0 - 800 + 400 * sub + rng.uniform(30, 370)
            y = Y0 + rng.uniform(-170, 170)
            month = 1 + (k % 3)
            known = k % 5 != 4
            when = pd.Timestamp(
                2020, month, 3 + k % 20, (7 + 3 * k) % 24 if known else 0, tz="America/Lima"
            )
            rows.append(
                {
                    "incident_id": f"i{k:03d}",
                    "occurred_at": when,
                    "time_known": known,
                    "delito_generico": gen,
                    "delito_especifico": esp,
                    "modalidad": mod,
                    "fenomeno": fen,
                    "harm": 1.0,
                    "label_raw": f"{esp} {mod}",
                    "label_known": True,
                    "descripcion": "texto libre del denunciante",
                    "comisaria_reportada": "",
                    "sector_reportado": "",
                    "source": "fixture.csv",
                    "source_row": k + 1,
                    "flags": "",
                    "at_station": False,
                    "ubigeo": "060101",
                    "distrito": "CAJAMARCA",
                    "provincia": "CAJAMARCA",
                    "comisaria": "COMISARIA CAJAMARCA I",
                    "comisaria_id": "1",
                    "sector": "SECTOR 1" if sub < 2 else "SECTOR 2",
                    "subsector": "SUB SECTOR " + "ABCD"[sub],
                    "geometry": Point(x, y),
                }
            )
            k += 1
    gdf = gpd.GeoDataFrame(rows, crs=UTM).to_crs("EPSG:4326")
    if payload:
        gdf.loc[0, "modalidad"] = XSS_IMG
        gdf.loc[1, "modalidad"] = XSS_SCRIPT
        gdf.loc[0, "descripcion"] = XSS_SCRIPT
        gdf.loc[2, "sector"] = XSS_IMG
        gdf.loc[2, "subsector"] = XSS_SCRIPT
    return gdf


def hotspots() -> gpd.GeoDataFrame:
    """Two KDE hotspots (ranked by n: 14 then 9) and six Gi* cells (one per class) + 1 n.s."""
    base = {
        "harm": 1.0,
        "provincia": "CAJAMARCA",
        "distrito": "CAJAMARCA",
        "comisaria": "COMISARIA CAJAMARCA I",
        "sector": "SECTOR 1",
        "subsector": None,
        "peak_hours": "19–22 h",
        "peak_days": "viernes, sábado",
    }
    rows = [
        {
            **base,
            "hotspot_id": "kde-0002",
            "method": "kde",
            "n": 9,
            "area_km2": 0.04,
            "density": 225.0,
            "top_modalidades": "ROBO AGRAVADO (5)",
            "geometry": box(X0 + 100, Y0 - 100, X0 + 300, Y0 + 100),
        },
        {
            **base,
            "hotspot_id": "kde-0001",
            "method": "kde",
            "n": 14,
            "area_km2": 0.04,
            "density": 350.0,
            "top_modalidades": f"HURTO SIMPLE (12); {XSS_IMG} (1)",
            "geometry": box(X0 - 700, Y0 - 100, X0 - 500, Y0 + 100),
        },
    ]
    classes = [
        "caliente_99",
        "caliente_95",
        "caliente_90",
        "frio_90",
        "frio_95",
        "frio_99",
        "no_significativo",
    ]
    for i, cls in enumerate(classes):
        x = X0 - 800 + 200 * i
        rows.append(
            {
                **base,
                "hotspot_id": f"gistar-{i + 1:04d}",
                "method": "gistar",
                "n": 7 - i,
                "area_km2": 0.04,
                "density": 25.0 * (7 - i),
                "top_modalidades": "",
                "gi_z": 3.0 - i,
                "gi_p": 0.002 * (i + 1),
                "gi_p_fdr": 0.004 * (i + 1),
                "gi_class": cls,
                "geometry": box(x, Y0 + 250, x + 200, Y0 + 450),
            }
        )
    gdf = gpd.GeoDataFrame(rows, crs=UTM).to_crs("EPSG:4326")
    gdf.loc[gdf["method"] != "gistar", "gi_class"] = None
    return gdf


def density():
    """A 20 × 30 raster (UTM 17S, 50 m cells): 0 in columns 0–4, then rising 1 … 25 eastward."""
    from affine import Affine
    from pyproj import CRS

    from parsc_geo.density import DensityRaster

    cols, rows, cell = 30, 20, 50.0
    array = np.tile(np.maximum(np.arange(cols, dtype="float64") - 4, 0), (rows, 1))
    transform = Affine(cell, 0, X0 - 750, 0, -cell, Y0 + 500)
    return DensityRaster(
        array=array,
        transform=transform,
        crs=CRS.from_epsg(32717),
        cell_size=cell,
        bandwidth=300.0,
        kernel="quartic",
        units="per_km2",
        parameters={"bandwidth": 300.0},
    )
