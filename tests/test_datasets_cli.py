"""``parsc-geo sample`` and byte-identical regeneration."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths

# --- check inputs -------------------------------------------------------------------------


def test_help_has_examples():
    result = CliRunner().invoke(cli, ["sample", "--help"])
    assert result.exit_code == 0
    assert "Ejemplos:" in result.output
    assert "--seed" in result.output and "--scale" in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--months", "0"], 2),
        (["--scale", "0"], 2),
        (["--scale", "-1"], 2),
        (["--start", "2020-13"], 4),
    ],
)
def test_bad_arguments_exit_with_usage_or_config_code(tmp_path, args, code):
    result = CliRunner().invoke(cli, ["sample", "-o", str(tmp_path), *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_too_small_a_sample_is_a_config_error(tmp_path):
    result = CliRunner().invoke(cli, ["sample", "--scale", "0.0005", "-o", str(tmp_path)])
    assert result.exit_code == 4
    assert "da solo 11 incidentes" in result.output  # round(21108 × 0.0005) = 11


def test_existing_output_needs_overwrite(tmp_path):
    target = tmp_path / "incidents" / "sintetico_cajamarca_2020_incidentes.csv"
    target.parent.mkdir(parents=True)
    target.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sample", "-o", str(tmp_path)])
    assert result.exit_code == 5
    assert "--overwrite" in result.output
    assert target.read_text(encoding="utf-8") == "x"


# --- check outputs ------------------------------------------------------------------------


@pytest.mark.slow
def test_small_sample_from_the_cli_is_reproducible(tmp_path):
    runner = CliRunner()
    args = ["sample", "--seed", "7", "--start", "2021-03", "--months", "2", "--scale", "0.05"]
    first = runner.invoke(cli, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert "DATOS SINTÉTICOS" in first.output
    second = runner.invoke(cli, [*args, "-o", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b and len(files_a) == 7
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    manifest = json.loads((tmp_path / "a" / "incidents" / "sintetico_manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["synthetic"] is True
    assert (manifest["period_start"], manifest["period_end"]) == ("2021-03-01", "2021-04-30")
    # SIDPPOL: 2021 has 20,654 complaints in 12 months; the reference period (Jan–Oct 2020)
    # 17,563 × 10 / 12. Two months of 2021 at scale 0.05:
    expected = round(21108 * (2 * 20654 / 12) / (10 * 17563 / 12) * 0.05)
    assert manifest["n_incidents"] == expected
    assert sum(c["n"] for c in manifest["counts"]) == expected
    dates = [
        line.split(",")[1]
        for line in (tmp_path / "a" / "incidents" / "sintetico_cajamarca_2021_incidentes.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1:]
    ]
    assert min(dates) >= "2021-03-01" and max(dates) <= "2021-04-30"
    # The small messy export reconciles with its clean sample too.
    from parsc_geo.ingest import ingest_files
    from parsc_geo.sectors import read_sectors

    root = tmp_path / "a"
    files = {k: root / v["path"] for k, v in manifest["files"].items()}
    result = ingest_files(
        [files["messy_csv"], files["messy_kml"]], sectors=read_sectors(files["sectors"])
    )
    clean_ids = [line.split(",")[0] for line in files["incidents"].read_text().splitlines()[1:]]
    assert sorted(result.accepted["incident_id"]) == sorted(clean_ids)
    expected = {
        (files[p["file"]].name, p["source_row"], p["reason"])
        for p in manifest["messy"]["planted"]
        if p["outcome"] == "quarantined"
    }
    q = result.quarantine
    assert set(zip(q["source"], q["source_row"].astype(int), q["reason"], strict=True)) == expected

    other = runner.invoke(cli, [*args[:2], "8", *args[3:], "-o", str(tmp_path / "c")])
    assert other.exit_code == 0
    assert (
        tmp_path / "c" / "incidents" / "sintetico_cajamarca_2021_incidentes.csv"
    ).read_bytes() != (
        tmp_path / "a" / "incidents" / "sintetico_cajamarca_2021_incidentes.csv"
    ).read_bytes()


@pytest.mark.slow
def test_bundled_sample_regenerates_byte_identically(tmp_path):
    paths = sample_paths()
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    from parsc_geo.datasets import write_sample

    out = write_sample(
        tmp_path,
        seed=manifest["seed"],
        start=manifest["period_start"][:7],
        months=manifest["months"],
        scale=manifest["scale"],
    )
    for key in ("incidents", "messy_csv", "messy_kml", "sectors", "manifest"):
        new = hashlib.sha256(out[key].read_bytes()).hexdigest()
        old = hashlib.sha256(paths[key].read_bytes()).hexdigest()
        assert new == old, key
    for name in ("README.md", "SCHEMA.md"):
        assert (tmp_path / "incidents" / name).read_bytes() == (
            paths["incidents"].parent / name
        ).read_bytes()
