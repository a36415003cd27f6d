# ruff: noqa: F811 - pytest fixtures imported from _postgis are parameters by name
"""A team on one store (issue 17): the PostGIS workspace against a real PostgreSQL + PostGIS.

Two analysts importing at once lose nothing (two processes), a reader sees the old or the new
state and never a mixture, an interrupted import changes nothing, viewers only read, and
connection problems are Spanish errors that never show a password. The commands ingest,
hotspots, map and info work on ``-w postgresql://…`` as on a GeoPackage.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from _postgis import pg_url, postgis_url, with_schema  # noqa: F401 - fixtures used by name
from click.testing import CliRunner
from test_store import incidents, quarantine
from test_workspace_safety import ROWS, inputs  # noqa: F401 - the same input files

from parsc_geo._errors import InputDataError, MissingDependencyError, OutputError
from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths
from parsc_geo.workspace import open_workspace
from parsc_geo.workspace.postgis import PostGISWorkspace

pytestmark = pytest.mark.postgis


def ingest_process(csv: Path, url: str, *, quiet: bool = True) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parsc_geo",
            *(["-q"] if quiet else []),
            "ingest",
            str(csv),
            "-w",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def table_names(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
        ).fetchall()
    return {r[0] for r in rows}


# -- a team importing at once ----------------------------------------------------------------


@pytest.mark.slow
def test_two_concurrent_imports_keep_every_row(inputs, pg_url):
    first = ingest_process(inputs / "a.csv", pg_url)
    second = ingest_process(inputs / "b.csv", pg_url)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    ws = open_workspace(pg_url)
    ids = ws.read_incidents()["incident_id"]
    # 1,500 + 1,500 distinct incidents: none lost, none twice, both files logged
    assert ids.is_unique and len(ids) == 2 * ROWS
    assert sorted(ws.imports()["source"]) == ["a.csv", "b.csv"]
    assert ws.describe()["layers"]["incidents"] == 2 * ROWS


def test_a_second_import_waits_for_the_first_then_adds_its_rows(inputs, pg_url):
    ws = PostGISWorkspace(pg_url)
    with ws.transaction():  # this process holds the writer lock
        ws.set_metadata(holder=True)
        other = ingest_process(inputs / "c.csv", pg_url, quiet=False)
        assert other.stderr is not None
        lines = []
        while not any("esperando" in line for line in lines) and len(lines) < 50:
            lines.append(other.stderr.readline())
        assert "en uso por otro proceso de parsc-geo: esperando" in lines[-1], lines
        time.sleep(0.5)
        assert other.poll() is None  # still waiting
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert "40 incidentes nuevos" in out
    # the waiting import read the state after our commit: our metadata survived
    assert ws.metadata()["holder"] is True and len(ws.read_incidents()) == 40


def test_a_writer_gives_up_after_the_lock_timeout(pg_url, monkeypatch):
    holder = PostGISWorkspace(pg_url)
    with holder.transaction():
        holder.set_metadata(x=1)
        monkeypatch.setenv("PARSC_GEO_LOCK_TIMEOUT", "0.5")
        t0 = time.monotonic()
        with pytest.raises(OutputError, match="en uso por otro proceso") as err:
            PostGISWorkspace(pg_url).set_metadata(x=2)
        assert time.monotonic() - t0 >= 0.5 and err.value.exit_code == 5
    assert PostGISWorkspace(pg_url).metadata() == {"x": 1}


# -- readers -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_reader_during_a_write_sees_the_old_or_the_new_state(inputs, pg_url):
    assert invoke("-q", "ingest", str(inputs / "c.csv"), "-w", pg_url).exit_code == 0
    reader = PostGISWorkspace(pg_url)
    writer = ingest_process(inputs / "a.csv", pg_url)
    seen = set()
    while writer.poll() is None:
        with reader.snapshot():
            # within one snapshot the layers agree: the incidents and the import log of the
            # same state (40 and 1 file, or 1,540 and 2 files), never a mixture
            state = (len(reader.read_incidents()), len(reader.imports()))
        seen.add(state)
        assert reader.describe()["layers"]["incidents"] in (40, 40 + ROWS)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    with reader.snapshot():
        seen.add((len(reader.read_incidents()), len(reader.imports())))
    assert seen <= {(40, 1), (40 + ROWS, 2)} and (40 + ROWS, 2) in seen


def test_a_replaced_table_stays_readable_for_an_older_snapshot(pg_url):
    ws = PostGISWorkspace(pg_url)
    ws.write_layer("hotspots", pd.DataFrame({"hotspot_id": ["a", "b"], "n": [2, 1]}))
    writer = PostGISWorkspace(pg_url)
    with ws.snapshot():
        assert ws.read_layer("hotspots")["n"].tolist() == [2, 1]
        # another shape: a new table; the writer does not wait for this reader
        t0 = time.monotonic()
        writer.write_layer("hotspots", pd.DataFrame({"hotspot_id": ["z"], "score": [0.5]}))
        assert time.monotonic() - t0 < 10
        assert list(ws.read_layer("hotspots").columns) == ["hotspot_id", "n"]
    assert list(ws.read_layer("hotspots").columns) == ["hotspot_id", "score"]
    # the old table was held by the reader, so it waited in the trash; the next write drops it
    assert {"hotspots", "hotspots__2"} <= table_names(ws.url.conninfo, ws.schema)
    writer.set_metadata(x=1)
    names = table_names(ws.url.conninfo, ws.schema)
    assert "hotspots" not in names and "hotspots__2" in names


def test_appending_a_new_column_keeps_the_rows_and_their_order(pg_url):
    ws = PostGISWorkspace(pg_url)
    ws.import_incidents(
        incidents(["b", "a"]), quarantine(n=0), sources=[{"source": "a.csv", "sha256": "a1"}]
    )
    more = incidents(["c"], source="b.csv")
    more["comisaria"] = ["CPNP X"]  # a column the stored incidents lack
    more["source_row"] = [7.5]  # a number of another kind: the column is widened
    ws.import_incidents(more, quarantine(n=0), sources=[{"source": "b.csv", "sha256": "b1"}])
    got = ws.read_layer("incidents")
    assert got["incident_id"].tolist() == ["b", "a", "c"]  # written order
    assert got["comisaria"].tolist()[2] == "CPNP X" and got["comisaria"].isna().sum() == 2
    assert got["source_row"].tolist() == [1.0, 2.0, 7.5]


def test_an_interrupted_import_changes_nothing(pg_url, monkeypatch):
    ws = PostGISWorkspace(pg_url)
    ws.import_incidents(
        incidents(["a"]), quarantine(n=0), sources=[{"source": "a.csv", "sha256": "a1"}]
    )
    before = (ws.read_incidents()["incident_id"].tolist(), len(ws.imports()))
    calls = {"n": 0}
    original = PostGISWorkspace._copy_rows

    def failing(self, conn, layer, frame, geometry):
        calls["n"] += 1
        if calls["n"] == 2:  # after the incidents were copied, before the quarantine
            raise KeyboardInterrupt
        original(self, conn, layer, frame, geometry)

    monkeypatch.setattr(PostGISWorkspace, "_copy_rows", failing)
    with pytest.raises(KeyboardInterrupt):
        ws.import_incidents(
            incidents(["x", "y"], source="b.csv"),
            quarantine("b.csv"),
            sources=[{"source": "b.csv", "sha256": "s2"}],
        )
    monkeypatch.undo()
    after = PostGISWorkspace(pg_url)
    assert (after.read_incidents()["incident_id"].tolist(), len(after.imports())) == before
    # the lock went with the transaction: the next import works at once
    after.import_incidents(
        incidents(["x"]), quarantine(n=0), sources=[{"source": "c.csv", "sha256": "c1"}]
    )
    assert len(after.read_incidents()) == 2


def test_a_newer_layout_is_refused_untouched(pg_url):
    ws = PostGISWorkspace(pg_url)
    ws.set_metadata(x=1)
    with psycopg.connect(ws.url.conninfo, autocommit=True) as conn:
        conn.execute(f"UPDATE {ws.schema}.parsc_schema SET version = 99")
    result = invoke("info", pg_url)
    assert result.exit_code == 3, result.output
    assert "formato 99, más reciente" in result.output and "actualice parsc-geo" in result.output


# -- the commands --------------------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_hotspots_and_map_on_postgis_equal_the_geopackage(pg_url, tmp_path):
    sample = sample_paths()
    gpkg = str(tmp_path / "w.gpkg")
    results = {}
    for name, ws in (("gpkg", gpkg), ("pg", pg_url)):
        out = tmp_path / name
        ingest = invoke(
            "-q", "ingest", str(sample["incidents"]), "--sectors", str(sample["sectors"]), "-w", ws
        )
        assert ingest.exit_code == 0, ingest.output
        hot = invoke("-q", "hotspots", "--method", "kde", "-w", ws, "-o", str(out))
        assert hot.exit_code == 0, hot.output
        hotspots = gpd.read_file(out / "hotspots_kde.gpkg")
        open_workspace(ws).write_layer("hotspots_kde", hotspots)
        drawn = invoke("-q", "map", "-w", ws, "-o", str(out / "mapas"), "--tiles", "ninguna")
        assert drawn.exit_code == 0, drawn.output
        results[name] = (ingest.output, hotspots, drawn.output, out / "mapas")
    (ing_g, hot_g, map_g, dir_g), (ing_p, hot_p, map_p, dir_p) = results["gpkg"], results["pg"]
    shown = PostGISWorkspace(pg_url).path  # the URL, password masked
    assert ing_p.replace(shown, "W") == ing_g.replace(gpkg, "W")  # the same counts
    assert len(hot_p) > 0
    pd.testing.assert_frame_equal(
        pd.DataFrame(hot_p.drop(columns="geometry")), pd.DataFrame(hot_g.drop(columns="geometry"))
    )
    assert hot_p.geometry.geom_equals(hot_g.geometry).all()
    assert map_p.replace(str(dir_p), "M") == map_g.replace(str(dir_g), "M")
    pages_g = sorted(p.name for p in dir_g.glob("*.html"))
    assert pages_g == sorted(p.name for p in dir_p.glob("*.html")) and "index.html" in pages_g
    # the hotspot layer read back from the workspace reached the same maps
    drawn_ids = {}
    for folder in (dir_g, dir_p):
        drawn_ids[folder] = {
            page: sorted(set(re.findall(r"kde-\d{4}", (folder / page).read_text(encoding="utf-8"))))
            for page in pages_g
        }
    assert drawn_ids[dir_g] == drawn_ids[dir_p]
    assert "kde-0001" in drawn_ids[dir_p]["provincia-cajamarca.html"]
    # the other readers of a workspace: priority (which records its inputs) and patrol
    out = tmp_path / "pg"
    priority = invoke("-q", "priority", "-w", pg_url, "--bootstrap", "5", "-o", str(out / "p"))
    assert priority.exit_code == 0, priority.output
    patrol = invoke(
        "-q", "patrol", "-w", pg_url, "--comisaria", "COMISARIA CAJAMARCA I", "--hotspots-layer",
        "hotspots_kde", "-o", str(out / "patrullaje"),
    )  # fmt: skip
    assert patrol.exit_code == 0, patrol.output
    password = PostGISWorkspace(pg_url).url.password
    assert password
    leaked = [p for p in out.rglob("*") if p.is_file() and password.encode() in p.read_bytes()]
    assert leaked == []
    info = invoke("info", pg_url)
    assert info.exit_code == 0 and "almacenamiento: PostGIS" in info.output
    assert "esquema: " in info.output and "backend" not in info.output
    assert "incidents: " in info.output and "sectors: " in info.output


def test_info_of_a_geopackage_says_when_to_move_to_postgis(tmp_path):
    ws = open_workspace(tmp_path / "w.gpkg")
    ws.set_metadata(x=1)
    result = invoke("info", str(tmp_path / "w.gpkg"))
    assert result.exit_code == 0, result.output
    assert "almacenamiento: GeoPackage" in result.output and "consejo: " in result.output
    assert "advice" not in result.output and "backend" not in result.output
    english = invoke("--lang", "en", "info", str(tmp_path / "w.gpkg"))
    assert "storage: GeoPackage" in english.output and "advice: " in english.output
    assert "pase a PostGIS" in result.output and "varios analistas importen a la vez" in (
        result.output
    )


# -- roles -------------------------------------------------------------------------------------


@pytest.fixture
def team(postgis_url, pg_url):
    """Login roles ana (analyst), beto (analyst) and visor (viewer) with passwords."""
    tag = uuid.uuid4().hex[:8]
    people = {
        name: (f"{name}_{tag}", f"Clave-{uuid.uuid4().hex[:10]}")
        for name in ("ana", "beto", "visor")
    }
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        for role, password in people.values():
            conn.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    psycopg.sql.Identifier(role), psycopg.sql.Literal(password)
                )
            )
    admin = PostGISWorkspace(pg_url)

    def url_of(name: str) -> str:
        role, password = people[name]
        base = postgis_url.split("@", 1)[1]
        return with_schema(f"postgresql://{role}:{password}@{base}", admin.schema)

    yield people, url_of, admin
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {admin.schema} CASCADE")
        for role in [r for r, _ in people.values()] + [
            f"{admin.schema}_analistas",
            f"{admin.schema}_lectores",
        ]:
            conn.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(role)))
            conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(role)))


def test_analysts_write_and_viewers_only_read(team, inputs):
    people, url_of, admin = team
    admin.set_metadata(created_by="admin")  # a workspace made before the roles
    result = invoke(
        "workspace",
        "init-roles",
        "-w",
        with_schema(admin.url.conninfo, admin.schema),
        "--analyst",
        people["ana"][0],
        "--analyst",
        people["beto"][0],
        "--viewer",
        people["visor"][0],
    )
    assert result.exit_code == 0, result.output
    assert f"{admin.schema}_lectores: solo leen" in result.output
    # ana imports; beto imports after her and replaces a layer ana created (shared ownership)
    ana = invoke("-q", "ingest", str(inputs / "c.csv"), "-w", url_of("ana"))
    assert ana.exit_code == 0, ana.output
    beto = invoke("-q", "ingest", str(inputs / "a.csv"), "-w", url_of("beto"))
    assert beto.exit_code == 0, beto.output
    open_workspace(url_of("ana")).write_layer("hotspots", pd.DataFrame({"n": [1]}))
    open_workspace(url_of("beto")).write_layer("hotspots", pd.DataFrame({"m": ["x"]}))
    # the viewer reads everything, including tables created after init-roles
    viewer = open_workspace(url_of("visor"))
    assert len(viewer.read_incidents()) == 40 + ROWS
    assert viewer.read_layer("hotspots")["m"].tolist() == ["x"]
    assert invoke("info", url_of("visor")).exit_code == 0
    # and cannot import: refused before any work, without showing the password
    refused = invoke("ingest", str(inputs / "b.csv"), "-w", url_of("visor"))
    assert refused.exit_code == 5, refused.output
    assert "no puede escribir" in refused.output and "analistas" in refused.output
    assert people["visor"][1] not in refused.output
    with pytest.raises(OutputError, match="no puede escribir"):
        viewer.set_metadata(x=1)
    assert len(open_workspace(url_of("ana")).read_incidents()) == 40 + ROWS


def test_init_roles_prints_its_sql_and_refuses_missing_roles(pg_url):
    printed = invoke("workspace", "init-roles", "-w", pg_url, "--analyst", "ana", "--print-sql")
    assert printed.exit_code == 5 and "no existen los roles ana" in printed.output
    printed = invoke("workspace", "init-roles", "-w", pg_url, "--print-sql")
    assert printed.exit_code == 0, printed.output
    schema = PostGISWorkspace(pg_url).schema
    assert f'ALTER SCHEMA "{schema}" OWNER TO "{schema}_analistas";' in printed.output
    assert not PostGISWorkspace(pg_url).exists  # printing changed nothing
    bad = invoke("workspace", "init-roles", "-w", pg_url, "--viewer", "x; DROP TABLE y")
    assert bad.exit_code == 4 and "nombres de rol no válidos" in bad.output
    gpkg = invoke("workspace", "init-roles", "-w", "w.gpkg")
    assert gpkg.exit_code == 4 and "no es un espacio de trabajo PostGIS" in gpkg.output


# -- connections ---------------------------------------------------------------------------------


def _address(url: str) -> tuple[str, str, str]:
    """Return the user, host:port and database of ``url``."""
    rest = url.split("://", 1)[1]
    user = rest.split("@", 1)[0].split(":", 1)[0]
    hostport, _, database = rest.split("@", 1)[1].partition("/")
    return user, hostport, database.split("?", 1)[0]


def test_connection_problems_are_spanish_errors_without_the_password(postgis_url, tmp_path):
    user, hostport, database = _address(postgis_url)
    host = hostport.rsplit(":", 1)[0]
    secret = "NoEsLaClave-4711"
    csv = tmp_path / "x.csv"
    csv.write_text("LATITUD,LONGITUD,FECHA\n-7.16,-78.51,2020-03-01\n", encoding="utf-8")
    cases = [
        # nobody listens on port 1: the server is missing
        (f"postgresql://{user}:{secret}@{host}:1/{database}", 6, "no se pudo conectar"),
        # a wrong password
        (f"postgresql://{user}:{secret}@{hostport}/{database}", 3, "rechazó el usuario"),
        # no such database
        (
            f"postgresql://{postgis_url.split('://', 1)[1].rsplit('/', 1)[0]}/no_existe_{secret}",
            3,
            "no tiene esa base de datos",
        ),
    ]
    for url, code, message in cases:
        for args in (["info", url], ["-v", "ingest", str(csv), "-w", url], ["map", "-w", url]):
            result = invoke(*args)
            assert result.exit_code == code, (args, result.output)
            assert message in result.output and "Sugerencia:" in result.output
            assert "Error interno" not in result.output
            if secret in url.split("@", 1)[0]:
                assert secret not in result.output, result.output
                assert "***" in result.output
    # malformed URLs are usage errors, read before anything is opened
    for url, message in (
        (f"postgresql://{user}:{secret}@{host}:puerto/{database}", "puerto no válido"),
        (f"postgresql://{user}@{hostport}/{database}?schema=Con-Guion", "nombre de esquema"),
    ):
        result = invoke("info", url)
        assert result.exit_code == 2 and message in result.output, result.output
        assert secret not in result.output


def test_a_missing_driver_is_a_missing_component(pg_url, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"parsc-geo\[postgis\]"):
        PostGISWorkspace(pg_url).read_incidents()
    result = invoke("info", pg_url)
    assert result.exit_code == 6 and "psycopg" in result.output


def test_the_password_never_shows(postgis_url, pg_url):
    ws = PostGISWorkspace(pg_url)
    ws.import_incidents(
        incidents(["a"]), quarantine(n=0), sources=[{"source": "a.csv", "sha256": "a1"}]
    )
    password = ws.url.password
    assert password  # the test server's URL has one
    shown = [str(ws), repr(ws), ws.path, str(ws.url), repr(ws.url)]
    shown.append(str(open_workspace(ws.url).read_incidents().attrs))
    from parsc_geo.io import read_points

    shown.append(read_points(workspace=ws.url).attrs["source"])
    assert all(password not in text for text in shown), shown
    assert "***" in ws.path


# -- the run's configuration -----------------------------------------------------------------


@pytest.mark.slow
def test_a_run_also_fills_the_team_workspace_of_its_config(pg_url, tmp_path):
    import json

    paths = sample_paths()
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    sample[sample["ubigeo"].str.startswith("0604")].to_csv(tmp_path / "chota.csv", index=False)
    config = tmp_path / "run.toml"
    config.write_text(
        f'synthetic = true\nworkspace = "{pg_url}"\n[inputs]\nincidents = ["chota.csv"]\n'
        '[hotspots]\nmethods = ["kde"]\n[priority]\nbootstrap = 5\n[maps]\ntiles = false\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = invoke("run", str(config), "-o", str(out))
    assert result.exit_code == 0, result.output
    team, local = open_workspace(pg_url), open_workspace(out / "workspace.gpkg")
    mine = local.read_incidents()
    assert len(mine) > 0
    assert team.read_incidents()["incident_id"].tolist() == mine["incident_id"].tolist()
    pd.testing.assert_frame_equal(
        pd.DataFrame(team.read_layer("hotspots").drop(columns="geometry")),
        pd.DataFrame(local.read_layer("hotspots").drop(columns="geometry")),
    )
    recorded = json.loads((out / "run.json").read_text(encoding="utf-8"))
    password = PostGISWorkspace(pg_url).url.password
    assert password and password not in json.dumps(recorded)
    assert password not in result.output
    # the same run again adds nothing to the team's store
    again = invoke("run", str(config), "-o", str(out), "--overwrite")
    assert again.exit_code == 0, again.output
    assert len(team.read_incidents()) == len(mine)
    assert team.imports()["rows_new"].tolist() == [len(mine), 0]


def test_the_config_workspace_key(tmp_path):
    from parsc_geo._errors import ConfigError
    from parsc_geo.config import parse_config

    base = {"inputs": {"incidents": []}}
    url = "postgresql://ana:Secreta-1@db.example:5432/obs?schema=arequipa"
    config = parse_config({**base, "workspace": url}, base=tmp_path)
    assert config.workspace is not None and config.workspace.schema == "arequipa"
    assert (
        config.to_dict()["workspace"] == "postgresql://ana:***@db.example:5432/obs?schema=arequipa"
    )
    assert "Secreta-1" not in json_text(config.to_dict())
    relative = parse_config({**base, "workspace": "equipo.gpkg"}, base=tmp_path)
    assert relative.workspace == tmp_path / "equipo.gpkg"
    with pytest.raises(ConfigError, match="workspace debe ser"):
        parse_config({**base, "workspace": 3}, base=tmp_path)
    with pytest.raises(ConfigError, match="nombre de esquema no válido") as err:
        parse_config({**base, "workspace": url.replace("arequipa", "Mal;Nombre")}, base=tmp_path)
    assert "Secreta-1" not in str(err.value)


def json_text(data: object) -> str:
    import json

    return json.dumps(data, default=str)


def test_a_database_without_postgis(postgis_url, tmp_path):
    """An administrator's first write adds the extension; anyone else gets exit 6 and how."""
    tag = uuid.uuid4().hex[:8]
    role, password, database = f"sin_{tag}", f"Clave-{tag}", f"sin_postgis_{tag}"
    sql = psycopg.sql
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(*map(sql.Identifier, (database, role)))
        )
    _, hostport, _ = _address(postgis_url)
    owner_url = f"postgresql://{role}:{password}@{hostport}/{database}"
    admin_url = postgis_url.rsplit("/", 1)[0] + f"/{database}"
    try:
        # the database's owner may create schemas but not the (untrusted) extension
        refused = invoke("info", owner_url)
        assert refused.exit_code == 3 and "no existe" in refused.output
        with pytest.raises(MissingDependencyError, match="no tiene la extensión PostGIS") as err:
            PostGISWorkspace(owner_url).set_metadata(x=1)
        assert "CREATE EXTENSION postgis" in str(err.value) and password not in str(err.value)
        assert not PostGISWorkspace(owner_url).exists  # the failed write left nothing
        # a superuser's first write installs it
        PostGISWorkspace(admin_url).set_metadata(x=1)
        assert PostGISWorkspace(admin_url).metadata() == {"x": 1}
        # the schema is the administrator's: others are told to ask for a role
        with pytest.raises(InputDataError, match="no puede leer") as err:
            PostGISWorkspace(owner_url).metadata()
        assert "init-roles" in str(err.value.hint)
    finally:
        with psycopg.connect(postgis_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
