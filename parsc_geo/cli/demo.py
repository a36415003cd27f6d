"""``parsc-geo demo``: the whole chain on the bundled synthetic sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import localized
from .options import (
    is_quiet,
    offline_option,
    output_dir_option,
    public_option,
    workers_option,
)
from .run import print_summary

EXAMPLES = """\b
Examples:
  parsc-geo demo
  parsc-geo demo --output /tmp/demo
  parsc-geo demo --public --offline
  parsc-geo demo --workers 1
"""


@localized.command(name="demo", epilog=EXAMPLES)
@output_dir_option(
    Path("out/demo"),
    help="Output folder: a previous parsc-geo output in it is replaced (only the files "
    "parsc-geo wrote), other files are kept; a non-empty folder of other files is refused.",
)
@public_option
@offline_option
@workers_option
@click.pass_context
def command(
    ctx: click.Context, output: Path, public: bool, offline: bool, workers: int | None
) -> None:
    """Run the whole chain on the bundled synthetic Cajamarca sample (21,108 incidents).

    The sample is synthetic (DATOS SINTÉTICOS — solo para demostración): only boundaries,
    police stations and populations are real. Every run replaces the files the previous demo
    wrote into the output folder (listed in its .parsc-geo-manifest.json) and nothing else.
    """
    from ..parallel import resolve_workers, start_early

    # the workers' libraries start loading in another process before this one loads its own
    start_early(resolve_workers(workers))
    from ..config import RunConfig
    from ..datasets import sample_paths
    from ..pipeline import run_pipeline

    paths = sample_paths()
    config = RunConfig(
        incidents=[paths["incidents"]],
        sectors=paths["sectors"],
        title="Mapa del delito — región Cajamarca (muestra sintética, enero–octubre 2020)",
        synthetic=True,
        methods=["kde", "gistar", "hdbscan"],
        public=public,
        offline=offline,
    )
    result = run_pipeline(
        config,
        output,
        overwrite=True,
        quiet=is_quiet(ctx),
        command=" ".join(["parsc-geo", *sys.argv[1:]]),
        workers=workers,
    )
    print_summary(result, is_quiet(ctx))
