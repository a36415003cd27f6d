"""``parsc-geo sample``: generate the synthetic sample mapa del delito."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import SEED
from . import localized
from .options import (
    Count,
    is_quiet,
    output_dir_option,
    overwrite_option,
    seed_option,
    study_area_option,
)

EXAMPLES = """\b
Examples:
  parsc-geo sample
  parsc-geo sample --seed 7 --months 12 --start 2023-01 -o demo/
  parsc-geo sample --scale 0.1 -o small/ --overwrite
  parsc-geo sample --study-area 04 --months 12 -o arequipa/
  parsc-geo sample --study-area peru --start 2022-01 --months 12 -o nacional/
"""


@localized.command(name="sample", epilog=EXAMPLES)
@seed_option(SEED)
@localized.option(
    "--start",
    default="2020-01",
    show_default=True,
    help="First month (YYYY-MM). 2020-01 with 10 months reproduces the plan's table.",
)
@localized.option(
    "--months",
    type=click.IntRange(1, 120),
    default=10,
    show_default=True,
    help="Number of months.",
)
@localized.option(
    "--scale",
    type=click.FloatRange(min=0.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Volume multiplier (1 = the real volume, scaled to SIDPOL for other periods).",
)
@study_area_option
@localized.option(
    "--sector-comisarias",
    "sector_comisarias",
    type=Count(0),
    default=None,
    help="Comisarías with synthetic sectors per department: those with the most officers "
    "(CENACOM 2017)  [default: 4; Cajamarca's four hand-made plans in the default area].",
)
@output_dir_option(Path("muestra_sintetica"), help="Folder receiving incidents/ and boundaries/.")
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    seed: int,
    start: str,
    months: int,
    scale: float,
    study_area: str | None,
    sector_comisarias: int | None,
    output: Path,
    overwrite: bool,
) -> None:
    r"""Generate a SYNTHETIC sample mapa del delito: Cajamarca, any department or all of Peru.

    Writes a clean incident CSV, a synthetic sector layer for real comisarías and a manifest
    (seed, generator version, counts, study area). For the default area, the Cajamarca region,
    also the same incidents as a messy field export (Latin-1 CSV and a My Maps KML with planted
    problems). Another department, province or the whole country (--study-area) gets the plan's
    mix of crimes at its own volume (complaints by department 2017-2019 relative to
    Cajamarca's), split across its districts by population and RENADEF workload. The same seed
    always gives byte-identical files.

    """
    from ..datasets import write_sample
    from ..labels_es import SAMPLE_FILES

    paths = write_sample(
        output,
        seed=seed,
        start=start,
        months=months,
        scale=scale,
        overwrite=overwrite,
        area=study_area,
        sector_comisarias=sector_comisarias,
    )
    if not is_quiet(ctx):
        click.echo("DATOS SINTÉTICOS — solo para demostración")
    for key in ("incidents", "messy_csv", "messy_kml", "sectors", "manifest"):
        if key in paths:
            click.echo(f"{SAMPLE_FILES[key]}: {paths[key]}")
