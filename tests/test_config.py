from pathlib import Path

import pytest

from parsc_geo._errors import ConfigError
from parsc_geo.config import read_config


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "a.csv").write_text("x\n")
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_defaults_and_resolves_paths(tmp_path):
    cfg = read_config(write(tmp_path, '[inputs]\nincidents = "a.csv"\n'))
    assert cfg.incidents == [(tmp_path / "a.csv").resolve()]
    assert cfg.kernel == "quartic" and cfg.cell_size is None and cfg.bandwidth is None
    assert cfg.methods == ["kde", "gistar"] and cfg.rank_by == "harm"
    assert cfg.to_dict()["incidents"] == [str((tmp_path / "a.csv").resolve())]


def test_auto_values_and_explicit_ones(tmp_path):
    cfg = read_config(
        write(
            tmp_path,
            """
synthetic = true
[inputs]
incidents = ["a.csv"]
[density]
kernel = "gaussian"
cell_size = "auto"
bandwidth = 250
[hotspots]
methods = ["dbscan"]
rank_by = "n"
[patrol]
units = 2
share = 0.8
""",
        )
    )
    assert cfg.synthetic is True
    assert (cfg.kernel, cfg.cell_size, cfg.bandwidth) == ("gaussian", None, 250)
    assert cfg.methods == ["dbscan"] and cfg.rank_by == "n"
    assert (cfg.patrol_units, cfg.patrol_share) == (2, 0.8)


def test_every_problem_is_listed_at_once(tmp_path):
    path = write(
        tmp_path,
        """
colour = "red"
[inputs]
incidents = ["missing.csv"]
[density]
kernel = "box"
cell_size = -5
[hotspots]
methods = ["kmeans"]
[patrol]
share = 1.5
""",
    )
    with pytest.raises(ConfigError) as err:
        read_config(path)
    text = str(err.value)
    assert "6 problemas" in text
    for fragment in (
        "clave desconocida 'colour'",
        "missing.csv no existe",
        "density.kernel",
        "density.cell_size",
        "hotspots.methods",
        "patrol.share",
    ):
        assert fragment in text
    assert "Sugerencia:" in text


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="no existe"):
        read_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[inputs\nincidents = 1\n")
    with pytest.raises(ConfigError, match="no es TOML válido"):
        read_config(bad)
    with pytest.raises(ConfigError, match=r"inputs\.incidents es obligatorio"):
        read_config(write(tmp_path, "title = 'x'\n"))


def test_example_configuration_is_valid():
    example = Path(__file__).parent.parent / "examples" / "demo.toml"
    cfg = read_config(example)
    assert [p.name for p in cfg.incidents] == [
        "sintetico_cajamarca_2020_campo.csv",
        "sintetico_cajamarca_2020_mymaps.kml",
    ]
    assert cfg.sectors is not None and cfg.sectors.exists()
    assert cfg.synthetic is True and cfg.methods == ["kde", "gistar", "hdbscan"]


def test_public_maps_privacy_k(tmp_path):
    base = '[inputs]\nincidents = "a.csv"\n[maps]\npublic = true\n'
    assert read_config(write(tmp_path, base)).privacy_k is None  # the documented default (5)
    assert read_config(write(tmp_path, base + "privacy_k = 7\n")).privacy_k == 7
    for bad in ("0", "2.5", "true", '"5"'):
        with pytest.raises(ConfigError, match=r"maps\.privacy_k"):
            read_config(write(tmp_path, base + f"privacy_k = {bad}\n"))
