"""Units of the synthetic-sample generator: mix, apportionment, rule inputs, profiles, sectors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _shared import shared_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from parsc_geo._errors import ConfigError
from parsc_geo.datasets import allocation, mix, profiles
from parsc_geo.datasets.jurisdictions import contiguous_ward, subsector_label, weighted_kmeans
from parsc_geo.datasets.mix import Period, apportion, crime_counts, sidppol_factor

REFERENCE = shared_reference("delitos_mayor_incidencia_cajamarca_ene_oct_2020.csv")


# --- check inputs -------------------------------------------------------------------------


def test_apportion_rejects_bad_weights():
    with pytest.raises(ConfigError, match="no se puede repartir"):
        apportion(5, np.array([0.0, 0.0]))
    with pytest.raises(ConfigError):
        apportion(5, np.array([1.0, -1.0]))


def test_crime_counts_rejects_non_positive_scale():
    with pytest.raises(ConfigError, match="scale debe ser positivo"):
        crime_counts(Period(2020, 1, 10), 0.0)


@pytest.mark.parametrize("start", ["2020", "2020-13", "enero", "20-01-01"])
def test_parse_period_rejects_bad_start(start):
    from parsc_geo.datasets.generator import parse_period

    with pytest.raises(ConfigError, match="AAAA-MM"):
        parse_period(start, 10)


def test_parse_period_rejects_bad_months():
    from parsc_geo.datasets.generator import parse_period

    with pytest.raises(ConfigError, match="months"):
        parse_period("2020-01", 0)


# --- check outputs ------------------------------------------------------------------------


def test_plan_table_is_the_reference_table():
    if not REFERENCE.exists():
        pytest.skip(f"reference table {REFERENCE} not available")
    with REFERENCE.open(encoding="utf-8") as fh:
        rows = [
            (r["delito_generico"], r["delito_especifico"], r["modalidad"], int(r["denuncias"]))
            for r in csv.DictReader(fh)
        ]
    assert tuple(rows) == mix.PLAN_TABLE
    assert sum(r[3] for r in rows) == 21108


def test_reference_period_gives_the_plan_counts_exactly():
    counts = crime_counts(Period(2020, 1, 10))
    assert counts["n"].tolist() == [r[3] for r in mix.PLAN_TABLE]
    assert int(counts["n"].sum()) == 21108


def test_sidppol_factor_by_hand():
    # SIDPPOL 2020: 17,563 in 12 months; 2021: 20,654 in 12 months (bundled series).
    assert sidppol_factor(Period(2020, 1, 10)) == 1.0
    expected = (12 * 20654 / 12) / (10 * 17563 / 12)
    assert sidppol_factor(Period(2021, 1, 12)) == pytest.approx(expected, rel=1e-12)
    # Years outside the series use the nearest year (2018 for 2015).
    assert sidppol_factor(Period(2015, 1, 10)) == pytest.approx(16174 / 17563, rel=1e-12)
    counts = crime_counts(Period(2021, 1, 12), scale=0.5)
    assert int(counts["n"].sum()) == round(21108 * expected * 0.5)


def test_period_months_and_bounds():
    p = Period(2020, 11, 4)
    assert p.month_list() == [(2020, 11), (2020, 12), (2021, 1), (2021, 2)]
    assert (p.start, p.end) == ("2020-11-01", "2021-02-28")


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=5000),
    weights=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
)
def test_apportion_sums_and_stays_within_one_of_quota(total, weights):
    w = np.array(weights)
    shares = apportion(total, w)
    assert shares.sum() == total
    quota = total * w / w.sum()
    assert np.all(np.abs(shares - quota) < 1 + 1e-9)
    assert np.all(shares >= 0)


def test_apportion_hand_example():
    # quotas 3.5, 2.25, 1.25 → floors 3, 2, 1 and one seat to the largest remainder (0.5)
    assert apportion(7, np.array([14.0, 9.0, 5.0])).tolist() == [4, 2, 1]


def test_district_inputs_match_raw_files():
    inputs = allocation.district_inputs()
    assert len(inputs) == 127
    raw = pd.read_csv(
        Path(__file__).resolve().parents[1]
        / "boundaries"
        / "peru_faltas_renadef2017_por_comisaria.csv",
        dtype={"UBIGEO": str},
    )
    raw = raw[raw["UBIGEO"].str.startswith("06")]
    cajamarca = int(raw.loc[raw["UBIGEO"] == "060101", "FALTAS"].sum())
    assert cajamarca == 122 + 58 + 1 + 30  # the four RENADEF units of district 060101
    got = inputs.set_index("ubigeo").loc["060101"]
    assert got["faltas_renadef_2017"] == cajamarca
    assert got["pob_urbana_2017"] == 191935
    assert inputs["faltas_renadef_2017"].sum() == raw["FALTAS"].sum()


@pytest.mark.parametrize(
    ("esp", "mod", "base"),
    [
        ("ABIGEATO", "HURTO", "rural"),
        ("LESIONES", "VIOLENCIA FAMILIAR", "total"),
        ("LIBERTAD SEXUAL", "OTROS", "total"),
        ("ROBO", "AGRAVADO", "urban"),
    ],
)
def test_population_base(esp, mod, base):
    assert allocation.population_base(esp, mod) == base


def test_hour_profiles_peak_where_documented():
    robo = profiles.PROFILES["tarde_noche"].hour_weights()
    fam = profiles.PROFILES["familia"].hour_weights()
    cee = profiles.PROFILES["ebriedad"].hour_weights()
    assert robo.sum() == pytest.approx(1.0)
    assert int(np.argmax(robo)) in (19, 20, 21)
    assert robo[18:23].sum() > 3 * robo[6:11].sum()
    assert fam[19:24].sum() > fam[9:14].sum()
    assert cee[[22, 23, 0, 1, 2, 3]].sum() > 0.5


def test_day_weights_emergency_and_weekends():
    days = [dt.date(2020, 3, 9) + dt.timedelta(days=k) for k in range(14)]  # Mon 9 – Sun 22
    w = profiles.day_weights(days, profiles.PROFILES["ebriedad"])
    # Sat 14 March (before the emergency) vs Sat 21 March (during it): factor 0.3
    assert w[12] / w[5] == pytest.approx(0.3)
    # Saturday twice as heavy as Monday before the emergency (2.0 vs 0.5 → ×4)
    assert w[5] / w[0] == pytest.approx(4.0)


def test_behaviour_families():
    assert profiles.behaviour("CONTRA EL PATRIMONIO", "OTROS", "OTROS").family == "calle"
    assert profiles.behaviour("OTROS DELITOS", "OTROS", "OTROS").family == "otro"
    assert profiles.behaviour("X", "HOMICIDIO", "CULPOSO").family == "via"
    assert profiles.behaviour("X", "LESIONES", "VIOLENCIA FAMILIAR").profile == "familia"
    assert (
        profiles.behaviour("X", "VIOLENCIA Y RESISTENCIA A LA AUTORIDAD", "DESOBEDIENCIA").profile
        == "toque_queda"
    )


def test_subsector_labels_run_a_to_aj():
    labels = [subsector_label(k, "letters") for k in range(36)]
    assert labels[:3] == ["SUB SECTOR A", "SUB SECTOR B", "SUB SECTOR C"]
    assert labels[26:] == [f"SUB SECTOR A{c}" for c in "ABCDEFGHIJ"]
    assert subsector_label(0, "numbers") == "SUB SECTOR 1"


def test_weighted_kmeans_finds_two_obvious_groups():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, size=(50, 2))
    b = rng.normal(100, 1, size=(50, 2))
    xy = np.vstack([a, b])
    w = np.ones(100)
    centres = weighted_kmeans(xy, w, 2, np.random.default_rng(0))
    centres = centres[np.argsort(centres[:, 0])]
    np.testing.assert_allclose(centres[0], a.mean(axis=0), atol=1e-9)
    np.testing.assert_allclose(centres[1], b.mean(axis=0), atol=1e-9)


def test_weighted_kmeans_uses_weights():
    xy = np.array([[0.0, 0.0], [10.0, 0.0]])
    centre = weighted_kmeans(xy, np.array([3.0, 1.0]), 1, np.random.default_rng(0))
    np.testing.assert_allclose(centre[0], [2.5, 0.0])


def test_contiguous_ward_respects_adjacency():
    # A chain 0-1-2-3 on a line; 0 and 3 are close in space but not adjacent.
    points = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 1.0], [0.0, 1.0]])
    adjacency = np.zeros((4, 4), dtype=int)
    for i, j in ((0, 1), (1, 2), (2, 3)):
        adjacency[i, j] = adjacency[j, i] = 1
    groups = contiguous_ward(points, adjacency, 2)
    # Unconstrained Ward would pair 0 with 3; with adjacency the chain splits {0,1} / {2,3}
    # or {0} / {1,2,3}: every group must be a connected run of the chain.
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        assert members.max() - members.min() == len(members) - 1
    assert contiguous_ward(points, adjacency, 4).tolist() == [0, 1, 2, 3]
