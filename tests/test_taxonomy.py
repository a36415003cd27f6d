import csv

import pandas as pd
import pytest
from _shared import shared_reference

from parsc_geo import schema, taxonomy
from parsc_geo._errors import ConfigError

PLAN_TABLE = shared_reference("delitos_mayor_incidencia_cajamarca_ene_oct_2020.csv")


def plan_triples() -> list[tuple[str, str, str]]:
    if PLAN_TABLE.exists():
        with PLAN_TABLE.open(encoding="utf-8") as fh:
            return [
                (r["delito_generico"], r["delito_especifico"], r["modalidad"])
                for r in csv.DictReader(fh)
            ]
    # the plan's printed table (PNP División de Estadística, as transcribed in the plan)
    return [
        ("CONTRA EL PATRIMONIO", "HURTO", "SIMPLE"),
        ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS"),
    ]


# -- check inputs ------------------------------------------------------------------------------


def test_needs_some_input():
    with pytest.raises(ConfigError):
        taxonomy.normalise_labels(None)


def test_unknown_harm_rule():
    with pytest.raises(ConfigError, match="regla de daño"):
        taxonomy.harm_weights("median")


def test_override_of_unknown_modalidad():
    with pytest.raises(ConfigError, match="modalidades desconocidas"):
        taxonomy.harm_weights(overrides={("HURTO", "INVENTADO"): 3.0})


# -- canonical table ---------------------------------------------------------------------------


def test_every_plan_triple_round_trips():
    triples = plan_triples()
    df = pd.DataFrame(triples, columns=["g", "e", "m"])
    out = taxonomy.normalise_labels(None, generico=df["g"], especifico=df["e"], modalidad=df["m"])
    assert out["label_known"].all()
    got = list(zip(out["delito_generico"], out["delito_especifico"], out["modalidad"], strict=True))
    assert got == triples


def test_plan_triples_round_trip_in_station_map_spelling():
    # lower case with accents, as the station maps write them
    df = pd.DataFrame(
        [
            ("Contra el Patrimonio", "Hurto", "Agravado"),
            ("Contra la Vida, el Cuerpo y la Salud", "Homicidio", "Calificado"),
            ("Contra la Seguridad Pública", "Peligro Común", "Conducción en estado de ebriedad"),
            ("Contra la Libertad", "Libertad Sexual", "Violación menor de 14 años"),
        ],
        columns=["g", "e", "m"],
    )
    out = taxonomy.normalise_labels(None, generico=df["g"], especifico=df["e"], modalidad=df["m"])
    assert out["modalidad"].tolist() == [
        "AGRAVADO",
        "CALIFICADO",
        "CONDUCCION EN ESTADO DE EBRIEDAD",
        "VIOLACION MENOR DE 14 AÑOS",
    ]
    assert out["delito_generico"].iloc[2] == "CONTRA LA SEGURIDAD PUBLICA"


def test_aliases_do_not_collide():
    table = taxonomy.canonical_triples()
    seen: dict[str, tuple[str, str, str]] = {}
    for r in table.itertuples(index=False):
        triple = (r.delito_generico, r.delito_especifico, r.modalidad)
        for alias in r.alias.split(";"):
            key = taxonomy.label_key(alias)
            assert seen.setdefault(key, triple) == triple, f"alias {alias!r} maps to two triples"


@pytest.mark.parametrize(
    ("label", "especifico", "modalidad"),
    [
        ("VIOL. FAM", "LESIONES", "VIOLENCIA FAMILIAR"),
        ("TID", "CONTRA LA SALUD PUBLICA", "TRAFICO ILICITO DE DROGAS"),
        ("TIA", "PELIGRO COMUN", "TENENCIA ILEGAL DE ARMAS"),
        ("PAF", "HOMICIDIO", "POR PAF"),
        ("CEE", "PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD"),
        ("HURTO AGRAVADO DURANTE LA NOCHE", "HURTO", "AGRAVADO"),
        ("ROBO AGRAVADO A MANO ARMADA", "ROBO", "AGRAVADO"),
        ("h. agrav.", "HURTO", "AGRAVADO"),
        ("T/PERSONAS", "LIBERTAD PERSONAL", "TRATA DE PERSONAS"),
        ("MAY. 14 AÑOS", "LIBERTAD SEXUAL", "VIOLACION MAYOR DE 14 AÑOS"),
        ("men 14 anos", "LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS"),
        ("SIN/CONSEN.", "ABORTO", "SIN CONSENTIMIENTO"),
        ("Extorsión", "EXTORSION", "EXTORSION"),
        ("Hurto de vehículo", "HURTO", "VEHICULOS"),
        ("ASALTO Y ROBO DE VEHICULOS", "ROBO", "VEHICULOS"),
        ("DELITO CONTRA EL PATRIMONIO - ROBO", "ROBO", "SIMPLE"),
        ("DELITO CONTRA EL PATRIMONIO: OTRO", "OTROS", "OTROS"),
        ("PATRIMONIO (DELITO)", "OTROS", "OTROS"),
    ],
)
def test_abbreviations(label, especifico, modalidad):
    out = taxonomy.normalise_labels(pd.Series([label]))
    assert out["label_known"].iloc[0]
    assert (out["delito_especifico"].iloc[0], out["modalidad"].iloc[0]) == (especifico, modalidad)


def test_unknown_label_kept_and_flagged():
    out = taxonomy.normalise_labels(pd.Series(["Pelea de gallos clandestina", None, ""]))
    assert out["label_known"].tolist() == [False, False, False]
    assert out["modalidad"].iloc[0] == "PELEA DE GALLOS CLANDESTINA"
    assert out["delito_generico"].tolist() == ["OTROS DELITOS"] * 3
    assert set(out["fenomeno"]) == {"otros"}


def test_index_is_preserved_and_rows_broadcast():
    s = pd.Series(["TID", "Hurto", "TID"], index=[10, 5, 7])
    out = taxonomy.normalise_labels(s)
    assert out.index.tolist() == [10, 5, 7]
    assert out.loc[10, "modalidad"] == out.loc[7, "modalidad"] == "TRAFICO ILICITO DE DROGAS"
    assert out.loc[5, "modalidad"] == "SIMPLE"


@pytest.mark.parametrize(
    ("label", "generico", "especifico"),
    [
        # legend items of the plan's station maps (Annex 3) and Santa Cruz / Cajabamba lists
        (
            "DELITO CONTRA LA SEGURIDAD PUBLICA: PELIGRO COMUN",
            "CONTRA LA SEGURIDAD PUBLICA",
            "PELIGRO COMUN",
        ),
        ("DELITO CONTRA LA FAMILIA - OTRO", "CONTRA LA FAMILIA", "OTROS"),
        (
            "DELITO CONTRA LA FE PUBLICA: FALSIFICACION DE DOCUMENTOS DE IDENTIDAD",
            "CONTRA LA FE PUBLICA",
            "FALSIFICACION DE DOCUMENTOS",
        ),
        (
            "DELITO CONTRA LA VIDA EL CUERPO Y LA SALUD: ACCIDENTE DE TRANSITO",
            "CONTRA LA VIDA EL CUERPO Y LA SALUD",
            "ACCIDENTE DE TRANSITO",
        ),
        (
            "DELITO CONTRA EL ORDEN FINANCIERO Y MONETARIO: FALSIFICACION DE MONEDA",
            "CONTRA EL ORDEN FINANCIERO Y MONETARIO",
            "FALSIFICACION DE MONEDA",
        ),
        ("D/C/V/C/S", "CONTRA LA VIDA EL CUERPO Y LA SALUD", "OTROS"),
        ("TRANQUILIDAD PUBLICA", "CONTRA LA TRANQUILIDAD PUBLICA", "OTROS"),
        ("NARCOTRAFICO", "CONTRA LA SEGURIDAD PUBLICA", "CONTRA LA SALUD PUBLICA"),
        ("ASESINATOS", "CONTRA LA VIDA EL CUERPO Y LA SALUD", "HOMICIDIO"),
    ],
)
def test_station_map_legend(label, generico, especifico):
    out = taxonomy.normalise_labels(pd.Series([label]))
    assert out["label_known"].iloc[0]
    assert (out["delito_generico"].iloc[0], out["delito_especifico"].iloc[0]) == (
        generico,
        especifico,
    )


# -- fenómenos ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "fenomeno"),
    [
        ("FEMINICIDIO", "violencia_mujer"),
        ("VIOL. FAM", "violencia_mujer"),
        ("TRATA DE PERSONAS", "violencia_mujer"),
        ("HOMICIDIO CALIFICADO", "muertes_violentas"),
        ("HOMICIDIO CULPOSO", "muertes_violentas"),
        ("ROBO AGRAVADO", "patrimonio_espacio_publico"),
        ("HURTO SIMPLE", "patrimonio_espacio_publico"),
        ("ESTAFA", "patrimonio_espacio_publico"),
        ("EXTORSION", "bandas_criminales"),
        ("MICROCOMERCIALIZACION DE DROGAS", "bandas_criminales"),
        ("CEE", "otros"),
    ],
)
def test_fenomeno(label, fenomeno):
    assert taxonomy.normalise_labels(pd.Series([label]))["fenomeno"].iloc[0] == fenomeno


def test_fenomeno_codes_are_schema_codes():
    assert set(taxonomy.canonical_triples()["fenomeno"]) <= set(schema.FENOMENOS)


def test_sidpol_modalidades_agree_with_point_labels():
    values = pd.Series(list(taxonomy.SIDPOL_MODALIDADES_FENOMENO))
    via_points = taxonomy.normalise_labels(values)["fenomeno"].tolist()
    via_counts = taxonomy.sidpol_fenomeno(values).tolist()
    assert via_points == via_counts == list(taxonomy.SIDPOL_MODALIDADES_FENOMENO.values())


# -- harm --------------------------------------------------------------------------------------


def _harm(table: pd.DataFrame, esp: str, mod: str, gen: str | None = None) -> float:
    row = table[(table["delito_especifico"] == esp) & (table["modalidad"] == mod)]
    if gen is not None:
        row = row[row["delito_generico"] == gen]
    assert len(row) == 1
    return float(row["harm"].iloc[0])


def test_harm_min_days_rule():
    t = taxonomy.harm_weights()
    assert _harm(t, "HURTO", "SIMPLE") == 1 * 365  # art. 185: 1 to 3 years
    assert _harm(t, "ROBO", "AGRAVADO") == 12 * 365  # art. 189: 12 to 20 years
    assert _harm(t, "PELIGRO COMUN", "CONDUCCION EN ESTADO DE EBRIEDAD") == 0.5 * 365
    assert _harm(t, "HOMICIDIO", "CULPOSO") == 2  # "no mayor de 2 años": art. 29 minimum
    assert _harm(t, "LIBERTAD SEXUAL", "VIOLACION MENOR DE 14 AÑOS") == 35 * 365  # life
    assert _harm(t, "FALTAS CONTRA EL PATRIMONIO", "HURTO SIMPLE Y DAÑO") == 1  # falta
    assert _harm(t, "OTROS", "OTROS", "OTROS DELITOS") == 2


def test_harm_lower_third_rule():
    t = taxonomy.harm_weights("lower_third_days")
    # art. 188 robo: 3 to 8 years -> 3 y + (8 - 3) / 6 y
    assert _harm(t, "ROBO", "SIMPLE") == pytest.approx(3 * 365 + 5 * 365 / 6)
    # art. 108 homicidio calificado: 15 years, no maximum -> art. 29 maximum 35 years
    assert _harm(t, "HOMICIDIO", "CALIFICADO") == pytest.approx(15 * 365 + 20 * 365 / 6)


def test_harm_count_rule_and_overrides():
    t = taxonomy.harm_weights("count")
    assert set(t["harm"]) == {1.0}
    o = taxonomy.harm_weights(overrides={("HURTO", "SIMPLE"): 10.0})
    assert _harm(o, "HURTO", "SIMPLE") == 10.0
    assert o.loc[o["modalidad_label"] == "HURTO SIMPLE", "regla"].iloc[0] == "configurado"
    out = taxonomy.normalise_labels(
        pd.Series(["Hurto"]), harm_overrides={("HURTO", "SIMPLE"): 10.0}
    )
    assert out["harm"].iloc[0] == 10.0


def test_harm_orders_severity():
    t = taxonomy.harm_weights()
    assert (
        _harm(t, "HOMICIDIO", "CALIFICADO")
        > _harm(t, "ROBO", "AGRAVADO")
        > _harm(t, "HURTO", "AGRAVADO")
        > _harm(t, "HURTO", "SIMPLE")
    )


# -- legend and sensitivity --------------------------------------------------------------------


def test_every_generico_has_colour_and_label():
    genericos = set(taxonomy.canonical_triples()["delito_generico"])
    assert genericos <= set(taxonomy.GENERICO_COLORS)
    assert genericos <= set(taxonomy.GENERICO_LABELS_ES)
    assert all(c.startswith("#") and len(c) == 7 for c in taxonomy.GENERICO_COLORS.values())
    assert len(set(taxonomy.GENERICO_COLORS.values())) == len(taxonomy.GENERICO_COLORS)
    assert (
        taxonomy.GENERICO_LABELS_ES["CONTRA LA SEGURIDAD PUBLICA"] == "Contra la seguridad pública"
    )


def test_is_sensitive():
    labels = pd.Series(
        ["VIOL. FAM", "FEMINICIDIO", "MAY 14 AÑOS", "TRATA", "HURTO", "TID", "abuso sexual x"]
    )
    df = taxonomy.normalise_labels(labels)
    df["label_raw"] = labels
    assert taxonomy.is_sensitive(df).tolist() == [True, True, True, True, False, False, True]


# The seven spellings of issue 13 that escaped the old keyword filter, with their headings:
# Ley 30364 violence against women and the family group is art. 122-B (LESIONES / VIOLENCIA
# FAMILIAR); estupro and abuse of minors are offences against sexual freedom (arts. 170–183-B).
SEVEN_SPELLINGS = [
    ("VIOLENCIA INTRAFAMILIAR", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("MALTRATO FAMILIAR", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("VIOLENCIA DOMESTICA", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("Violencia doméstica", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("VIOLENCIA DE GENERO", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("AGRESION CONTRA LAS MUJERES", "LESIONES", "VIOLENCIA FAMILIAR"),
    ("ESTUPRO", "LIBERTAD SEXUAL", "OTROS"),
    ("ABUSO DE MENOR", "LIBERTAD SEXUAL", "OTROS"),
]


@pytest.mark.parametrize(("label", "especifico", "modalidad"), SEVEN_SPELLINGS)
def test_seven_spellings_normalise_to_their_heading_and_are_sensitive(label, especifico, modalidad):
    out = taxonomy.normalise_labels(pd.Series([label]))
    assert out["label_known"].iloc[0]
    assert (out["delito_especifico"].iloc[0], out["modalidad"].iloc[0]) == (especifico, modalidad)
    assert out["fenomeno"].iloc[0] == "violencia_mujer"
    assert taxonomy.is_sensitive(out, unknown=False).tolist() == [True]


def test_sensitive_flags_follow_the_headings_and_fenomenos():
    """Every canonical category under a sensitive heading or fenómeno is flagged, and only those
    plus the flagged homicide/lesiones/libertad personal rows (feminicidio, violencia familiar,
    trata)."""
    table = taxonomy.canonical_triples()
    by_rule = [
        taxonomy.heading_sensitive(g, e, f)
        for g, e, f in table[["delito_generico", "delito_especifico", "fenomeno"]].itertuples(
            index=False, name=None
        )
    ]
    assert (table["sensitive"] == pd.Series(by_rule)).all()
    flagged = table[table["sensitive"]]
    assert set(flagged["delito_generico"]) == {
        "CONTRA LA VIDA EL CUERPO Y LA SALUD",
        "CONTRA LA LIBERTAD",
        "CONTRA LA FAMILIA",
    }
    assert len(flagged) == 3 + 1 + 3 + 3  # 3 of life/body, trata, 3 sexual, 3 family


def test_compound_label_naming_a_sensitive_heading_is_sensitive():
    out = taxonomy.normalise_labels(
        pd.Series(["VIOLENCIA FAMILIAR - LESIONES LEVES", "LESIONES LEVES - VIOLACION SEXUAL"])
    )
    assert out["modalidad"].tolist() == ["VIOLENCIA FAMILIAR", "VIOLACION MAYOR DE 14 AÑOS"]
    assert taxonomy.is_sensitive(out).tolist() == [True, True]


def test_is_sensitive_uses_the_taxonomy_not_keywords():
    # a free-text label with a sensitive word is not a category: it is unrecognised (sensitive
    # only through unknown=True), and a recognised robbery stays non-sensitive whatever its text
    df = taxonomy.normalise_labels(pd.Series(["violencia sexual contra la mujer xyz", "ROBO"]))
    df["label_raw"] = ["violencia sexual contra la mujer xyz", "VIOLACION SEXUAL"]
    assert taxonomy.is_sensitive(df, unknown=False).tolist() == [False, False]
    assert taxonomy.is_sensitive(df).tolist() == [True, False]
    assert taxonomy.is_recognised(df).tolist() == [False, True]
