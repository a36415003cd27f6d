"""The option registry: every shared option fails the same way in every command.

The test walks every command of ``parsc-geo`` (``COMMANDS``) and, for every shared option the
command has, gives it the same bad value: the exit code and the message must be the same
everywhere (for options whose allowed values differ by command, such as ``--method``, the
message up to the list of allowed values).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click
import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner

from parsc_geo.cli import options
from parsc_geo.cli.main import COMMANDS, cli

#: Shared option → (bad value, expected exit code, message shared by every command).
BAD_VALUES: dict[str, tuple[str, int, str]] = {
    "--bandwidth": ("-5", 2, "valor no válido para '--bandwidth': se esperaban metros, un número"),
    "--cell-size": ("0", 2, "valor no válido para '--cell-size': se esperaban metros, un número"),
    "--kernel": ("caja", 2, "valor no válido para '--kernel': 'caja' no es una opción conocida"),
    "--method": ("magia", 2, "valor no válido para '--method' / '-m': 'magia' no es una opción"),
    "--bandwidth-adjust": ("0", 2, "valor no válido para '--bandwidth-adjust': se esperaba un"),
    "--eps": ("-1", 2, "valor no válido para '--eps': se esperaban metros, un número mayor que 0"),
    "--min-count": ("-1", 2, "valor no válido para '--min-count': se esperaba un número entero"),
    "--fenomeno": ("robos", 2, "valor no válido para '--fenomeno': 'robos' no es una opción"),
    "--period": ("2020-13", 2, "valor no válido para '--period': se esperaba AAAA, AAAA-MM"),
    "--input-crs": ("EPSG:99999", 2, "valor no válido para '--input-crs': sistema de referencia"),
    "--seed": ("-3", 2, "valor no válido para '--seed': se esperaba un número entero"),
    "--utm-zone": ("61S", 2, "valor no válido para '--utm-zone': se esperaba una zona UTM de 1"),
    "--timezone": ("America/Cajamarca", 2, "valor no válido para '--timezone': zona horaria"),
    "--year": ("20", 2, "valor no válido para '--year': se esperaba un año entre 1900 y 2199"),
    "--undated": ("borrar", 2, "valor no válido para '--undated': 'borrar' no es una opción"),
    "--header-row": ("0", 2, "valor no válido para '--header-row': se esperaba un número entero"),
    "--config": ("no_existe.toml", 3, "no_existe.toml: el archivo no existe"),
    "--incidents": ("no_existe.csv", 3, "no_existe.csv: el archivo no existe"),
}


#: Options that two commands spell alike for different ideas, each named by an issue:
#: ``trends --period`` is the length of the cube's periods (issue 14), elsewhere ``--period``
#: selects the months analysed.
OTHER_MEANING: set[tuple[str, str]] = {("trends", "--period")}


def _commands() -> dict[str, click.Command]:
    """Every command, with the subcommands of groups as ``"group sub"``."""
    found: dict[str, click.Command] = {}
    for name, (module, _) in COMMANDS.items():
        command = importlib.import_module(f"parsc_geo.cli.{module}").command
        if isinstance(command, click.Group):
            for sub_name, sub in command.commands.items():
                found[f"{name} {sub_name}"] = sub
        else:
            found[name] = command
    return found


def _option_names(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}


@pytest.fixture
def points_csv(tmp_path: Path) -> Path:
    path = tmp_path / "puntos.csv"
    path.write_text("LONGITUD,LATITUD\n-78.517,-7.157\n-78.518,-7.158\n", encoding="utf-8")
    return path


def _required_args(name: str, command: click.Command, points_csv: Path, tmp: Path) -> list[str]:
    """Arguments a command needs besides the option under test (all valid)."""
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            args.append(str(tmp / "run.toml") if name == "run" else str(points_csv))
        if isinstance(param, click.Option) and param.required:
            args += [param.opts[0], str(tmp / "salida")]
    return args


def _cases() -> list[tuple[str, str]]:
    commands = _commands()
    return [
        (name, option)
        for name, command in sorted(commands.items())
        for option in BAD_VALUES
        if option in _option_names(command) and (name, option) not in OTHER_MEANING
    ]


def test_every_shared_option_is_defined_once():
    # an option spelled the same in two commands comes from the registry: same type, same
    # validation (only defaults and help may differ)
    by_name: dict[str, set[type]] = {}
    for name, command in _commands().items():
        for param in command.params:
            if (
                isinstance(param, click.Option)
                and param.opts[0] in BAD_VALUES
                and (name, param.opts[0]) not in OTHER_MEANING
            ):
                by_name.setdefault(param.opts[0], set()).add(type(param.type))
    assert all(len(types) == 1 for types in by_name.values()), by_name
    # every option of BAD_VALUES is shared by at least two commands (or it would not be here)
    counts = {name: sum(name in _option_names(c) for c in _commands().values()) for name in by_name}
    assert all(n >= 2 for n in counts.values()), counts


def test_the_walk_covers_every_analysis_command():
    walked = {name for name, _ in _cases()}
    assert {"density", "hotspots", "rank", "map", "patrol", "priority", "ingest"} <= walked


@pytest.mark.parametrize(("name", "option"), _cases())
def test_same_bad_value_same_exit_code_and_message(name, option, points_csv, tmp_path):
    value, code, message = BAD_VALUES[option]
    command = _commands()[name]
    args = [*name.split(), option, value, *_required_args(name, command, points_csv, tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    # nothing was written
    assert not (tmp_path / "salida").exists()


@pytest.mark.parametrize("name", ["density", "hotspots", "map", "patrol"])
def test_unreadable_input_is_the_same_data_error_everywhere(name, tmp_path):
    result = CliRunner().invoke(cli, [name, str(tmp_path / "no_existe.csv")])
    assert result.exit_code == 3, result.output
    assert f"Error: {tmp_path / 'no_existe.csv'}: el archivo no existe" in result.output


@pytest.mark.parametrize("name", ["ingest", "validate"])
def test_unreadable_files_argument_is_a_data_error(name, tmp_path):
    result = CliRunner().invoke(cli, [name, str(tmp_path / "no_existe.csv")])
    assert result.exit_code == 3, result.output
    assert "el archivo no existe" in result.output


def test_a_method_that_would_decline_still_reports_invalid_parameters_first(tmp_path):
    # 12 incidents: every method would decline (too few), but the bad value is reported first
    rng = np.random.default_rng(3)
    path = tmp_path / "pocos.geojson"
    gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(-78.517 + rng.normal(0, 0.001, 12), -7.157 + np.zeros(12)),
        crs="EPSG:4326",
    ).to_file(path)
    for method, option, value in (
        ("kde", "--bandwidth", "-5"),
        ("kde", "--kernel", "caja"),
        ("gistar", "--cell-size", "0"),
        ("dbscan", "--eps", "-1"),
    ):
        result = CliRunner().invoke(
            cli, ["hotspots", str(path), "-m", method, option, value, "-o", str(tmp_path / "o")]
        )
        assert result.exit_code == 2, (method, result.output)
        assert "ningún hotspot" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("method", "parameters"),
    [
        ("kde", {"bandwidth": -5}),
        ("kde", {"cell_size": 0}),
        ("kde", {"kernel": "caja"}),
        ("kde", {"bandwidth_adjust": 0}),
        ("kde", {"weights": "no_hay"}),
        ("dbscan", {"eps": -1}),
        ("hdbscan", {"min_cluster_size": 1}),
        ("gistar", {"cell_size": 0}),
        ("gistar", {"alpha": 2}),
    ],
)
def test_library_methods_check_parameters_before_declining(method, parameters):
    from parsc_geo._errors import ConfigError
    from parsc_geo.hotspots import run_method

    five = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(-78.5 + np.arange(5) * 0.001, -7.15 + np.zeros(5)),
        crs="EPSG:4326",
    )
    with pytest.raises(ConfigError):
        run_method(method, five, quiet=True, **parameters)


def test_registry_choices_match_the_library():
    from parsc_geo import bandwidth, schema
    from parsc_geo._kernels import KERNELS
    from parsc_geo.cli.priority import _METHODS
    from parsc_geo.hotspots import METHODS
    from parsc_geo.priority.levels import METHODS as PRIORITY_METHODS

    assert set(options.KERNELS) == set(KERNELS)
    assert set(options.FENOMENOS) == set(schema.FENOMENOS)
    assert set(options.HOTSPOT_METHODS) == set(METHODS)
    assert set(options.BANDWIDTH_RULES) == set(bandwidth.RULES)
    assert set(_METHODS) == set(PRIORITY_METHODS)
    # the run's configuration accepts the same names
    from parsc_geo import config
    from parsc_geo.ranking import RANK_BY

    assert set(config.KERNELS) == set(KERNELS)
    assert set(config.METHODS) == set(METHODS)
    assert set(config.RANK_BY) == set(RANK_BY)
    assert set(config.PRIORITY_RULES) == set(PRIORITY_METHODS)


def test_option_types_accept_good_values():
    assert options.Metres().convert("250", None, None) == 250.0
    assert options.Metres().convert("250m", None, None) == 250.0
    assert options.Bandwidth().convert("Silverman", None, None) == "silverman"
    assert options.Bandwidth().convert("400", None, None) == 400.0
    assert options.Choice(["quartic"]).convert("QUARTIC", None, None) == "quartic"
    assert options.Count(1).convert("3", None, None) == 3
    assert options.Period().convert("2020-01:2020-10", None, None) == "2020-01:2020-10"
    for bad in ("nan", "inf", "-0", "x"):
        with pytest.raises(click.BadParameter):
            options.Metres().convert(bad, None, None)


#: One name per idea (issue 16): idea → (the option's name, commands that offer it).
ONE_NAME: dict[str, tuple[str, set[str]]] = {
    "weight incidents by harm (or another column)": (
        "--weights",
        {"density", "hotspots", "trends", "patrol"},
    ),
    "order of ranked hotspots": ("--rank-by", {"rank"}),
    "hotspot method": ("--method", {"hotspots", "rank"}),
    "source of patrol critical points": ("--points-method", {"patrol"}),
    "rule from priority indicators to levels": ("--rule", {"priority"}),
    "density units": ("--units", {"density"}),
    "patrol units per sector and shift": ("--patrol-units", {"patrol"}),
    "weights of the workload of designed sectors": ("--workload-weights", {"sectors design"}),
}


def test_one_name_for_one_idea():
    commands = _commands()
    for idea, (name, where) in ONE_NAME.items():
        offered = {c for c, command in commands.items() if name in _option_names(command)}
        assert offered == where, (idea, offered)
    # the old spellings are no visible option anywhere
    for old in ("--risk", "--by", "--ubigeo-column", "--category-column", "--count-column"):
        assert not [c for c, command in commands.items() if old in _option_names(command)], old


def test_every_old_spelling_leads_to_an_option_of_its_command():
    from parsc_geo.cli.localized import LocalizedMixin

    found = 0
    for name, command in _commands().items():
        assert isinstance(command, LocalizedMixin), name
        names = _option_names(command)
        for alias in command.aliases:
            found += 1
            assert alias.new in names, (name, alias)
            assert alias.old not in names, (name, alias)
    assert found >= 10


def test_defaults_are_shown_as_values():
    for name, command in _commands().items():
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                assert "settings." not in param.help and "DEFAULT_" not in param.help, (
                    name,
                    param.opts,
                )
