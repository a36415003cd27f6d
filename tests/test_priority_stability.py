"""A level is published only when it is stable (issue 16): the bootstrap and the rule."""

import numpy as np
import pytest
from _priority import count_table
from scipy.stats import binom

from parsc_geo.priority import compute_priority
from parsc_geo.priority.levels import LEVEL_ALTA, LEVEL_NONE, LEVEL_PRIORIDAD, PriorityRule
from parsc_geo.priority.stability import (
    Stability,
    bootstrap_levels,
    published_levels,
    stability_percent,
)
from parsc_geo.priority.tables import method_paragraphs, plan_markdown
from parsc_geo.priority.territories import plan_table

#: ALTA from 11 complaints, PRIORIDAD from 10 (no minimum counts): a level decided by one
#: complaint more or less.
KNIFE_EDGE = PriorityRule(
    method="thresholds", indicator="n", thresholds=(11, 10), min_count=0, min_count_prioridad=0
)


def stability(own, alternative, alternative_share):
    own = np.asarray(own, dtype=float)
    return Stability(
        shares=np.full((len(own), 3), np.nan),
        own=own,
        alternative=np.asarray(alternative, dtype=object),
        alternative_share=np.asarray(alternative_share, dtype=float),
        n_boot=200,
    )


def test_bootstrap_shares_follow_the_binomial_law():
    # Two units with 10 complaints each, 20 in all. A replicate resamples the 20 complaints:
    # unit 0 gets X ~ Binomial(20, 1/2). By the rule it is PRIORIDAD when X = 10, ALTA when
    # X >= 11 and without level when X <= 9:
    #   P(X = 10) = C(20, 10) / 2^20 = 184756 / 1048576 = 0.1762
    #   P(X >= 11) = P(X <= 9) = (1 - 0.1762) / 2 = 0.4119
    counts = np.array([10.0, 10.0])
    population = np.array([50_000.0, 50_000.0])
    levels = np.array([LEVEL_PRIORIDAD, LEVEL_PRIORIDAD], dtype=object)
    result = bootstrap_levels(counts, population, levels, KNIFE_EDGE, n_boot=20_000, seed=3)
    p_equal = binom.pmf(10, 20, 0.5)
    assert p_equal == pytest.approx(184756 / 1048576)
    p_above = binom.sf(10, 20, 0.5)
    # shares in the order ALTA, PRIORIDAD, none; 3 standard errors of 20,000 draws ≈ 0.011
    np.testing.assert_allclose(result.shares[0], [p_above, p_equal, p_above], atol=0.011)
    np.testing.assert_allclose(result.shares.sum(axis=1), 1.0)
    assert result.own[0] == pytest.approx(p_equal, abs=0.011)
    assert result.alternative[0] in (LEVEL_ALTA, LEVEL_NONE)
    assert result.alternative_share[0] == pytest.approx(p_above, abs=0.011)
    # the same seed gives the same replicates
    again = bootstrap_levels(counts, population, levels, KNIFE_EDGE, n_boot=20_000, seed=3)
    np.testing.assert_array_equal(result.shares, again.shares)


def test_bootstrap_without_complaints_or_replicates():
    zero = bootstrap_levels(
        np.zeros(3),
        np.ones(3) * 1000,
        np.array([LEVEL_NONE] * 3, dtype=object),
        PriorityRule(),
        n_boot=50,
        seed=1,
    )
    assert zero.own.tolist() == [1.0, 1.0, 1.0]
    assert list(zero.alternative) == [None, None, None]
    none = bootstrap_levels(
        np.array([5.0, 7.0]),
        np.array([10.0, 10.0]),
        np.array(["", ""], dtype=object),
        PriorityRule(),
        n_boot=0,
        seed=1,
    )
    assert np.isnan(none.own).all()
    uncertain, text = published_levels(np.array(["", ""], dtype=object), none, 0.8)
    assert not uncertain.any() and list(text) == ["", ""]


def test_published_level_rule_on_constructed_stabilities():
    levels = np.array(
        [LEVEL_ALTA, LEVEL_ALTA, LEVEL_PRIORIDAD, LEVEL_NONE, LEVEL_PRIORIDAD], dtype=object
    )
    stab = stability(
        own=[0.42, 0.80, 0.7999, 0.52, 1.0],
        alternative=[LEVEL_PRIORIDAD, LEVEL_PRIORIDAD, LEVEL_NONE, LEVEL_PRIORIDAD, None],
        alternative_share=[0.55, 0.2, 0.2001, 0.48, 0.0],
    )
    uncertain, text = published_levels(levels, stab, 0.8)
    # 80 % exactly is enough; anything below is uncertain, with both candidates, highest first
    assert uncertain.tolist() == [True, False, True, True, False]
    assert list(text) == [
        "NIVEL INCIERTO (ALTA PRIORIDAD o PRIORIDAD)",
        LEVEL_ALTA,
        "NIVEL INCIERTO (PRIORIDAD o SIN PRIORIDAD)",
        "NIVEL INCIERTO (PRIORIDAD o SIN PRIORIDAD)",
        LEVEL_PRIORIDAD,
    ]


def test_stability_percent_rounds_down():
    # 79.5 % must not read "80 %" beside the word "incierto"
    assert stability_percent(0.795) == 79
    assert stability_percent(0.8) == 80
    assert stability_percent(1.0) == 100
    assert stability_percent(float("nan")) is None


def test_an_unstable_province_reads_nivel_incierto_in_every_table():
    # Cajamarca and Jaén with 10 robberies each: PRIORIDAD by the rule, kept only when a
    # replicate gives exactly 10 (17.6 %, see the binomial test above).
    table = count_table([("060101", 2020, 5, "Robo", 10), ("060801", 2020, 5, "Robo", 10)])
    result = compute_priority(
        table,
        levels=["provincia"],
        fenomenos=["patrimonio_espacio_publico"],
        rule=KNIFE_EDGE,
        n_boot=400,
    )
    rows = result.table.set_index("codigo")
    for code in ("0601", "0608"):
        assert rows.loc[code, "nivel"] == LEVEL_PRIORIDAD
        assert rows.loc[code, "estabilidad"] == pytest.approx(0.176, abs=0.06)
        assert bool(rows.loc[code, "incierto"])
        assert rows.loc[code, "nivel_publicado"].startswith("NIVEL INCIERTO (")
        assert "Nivel incierto (estabilidad menor que 80 %)" in rows.loc[code, "observacion"]
    plan = plan_table(result)
    listed = plan[plan["N/O"] != ""]
    assert set(listed["PROVINCIA"]) == {"CAJAMARCA", "JAÉN"}
    assert listed["CLÚSTER"].str.startswith("NIVEL INCIERTO").all()
    expected = [stability_percent(rows.loc[c, "estabilidad"]) for c in ("0601", "0608")]
    assert sorted(listed["ESTABILIDAD (%)"].tolist()) == sorted(expected)
    text = plan_markdown(result)
    assert "NIVEL INCIERTO (" in text
    method = dict(method_paragraphs(result))
    assert "al menos 80 %" in method["Estabilidad y nivel incierto"]
    assert "400 remuestreos" in method["Estabilidad y nivel incierto"]
    # a lower threshold publishes the levels as they are
    lenient = compute_priority(
        table,
        levels=["provincia"],
        fenomenos=["patrimonio_espacio_publico"],
        rule=KNIFE_EDGE,
        n_boot=400,
        min_stability=0.1,
    )
    covered = lenient.table[lenient.table["con_datos"]]
    assert set(covered["nivel_publicado"]) == {LEVEL_PRIORIDAD}
    assert lenient.parameters["min_stability"] == 0.1


def test_min_stability_is_checked():
    from parsc_geo._errors import ConfigError

    table = count_table([("060101", 2020, 5, "Robo", 10)])
    with pytest.raises(ConfigError, match="min_stability"):
        compute_priority(table, n_boot=0, min_stability=80)
