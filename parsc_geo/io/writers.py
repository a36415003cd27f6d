"""Atomic writers of quarantine files and ingestion reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import write_bytes_atomic
from .._errors import OutputError

if TYPE_CHECKING:
    import pandas as pd


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise OutputError(f"{path} ya existe", hint="elija otro nombre o use --overwrite")
    if not path.parent.exists():
        raise OutputError(f"la carpeta {path.parent} no existe", hint="créela primero")


def write_quarantine(
    quarantine: pd.DataFrame, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write the quarantine table as CSV (UTF-8 with BOM, so Excel shows accents), atomically.

    Parameters
    ----------
    quarantine
        Rows with :data:`parsc_geo.schema.QUARANTINE_COLUMNS`.
    path
        Target ``.csv`` file.
    overwrite
        Replace an existing file.
    """
    target = Path(path)
    _check_target(target, overwrite)
    text = quarantine.to_csv(index=False, lineterminator="\n")
    write_bytes_atomic(target, text.encode("utf-8-sig"), overwrite=overwrite)
    return target


def write_report(report: dict[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write an ingestion report as indented UTF-8 JSON, atomically."""
    target = Path(path)
    _check_target(target, overwrite)
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str, sort_keys=False)
    write_bytes_atomic(target, (text + "\n").encode("utf-8"), overwrite=overwrite)
    return target
