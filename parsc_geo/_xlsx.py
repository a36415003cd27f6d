"""Byte-stable XLSX files: fixed document dates and zip member times.

openpyxl stamps the save time into ``docProps/core.xml`` and into every zip member, so two runs
on the same input give different bytes. :func:`freeze_xlsx` rewrites a saved workbook with the
date of :func:`document_date` everywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

#: Date used when ``SOURCE_DATE_EPOCH`` is not set (the reproducible-builds convention).
DEFAULT_DOCUMENT_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def document_date() -> dt.datetime:
    """Return the date to stamp into documents: ``SOURCE_DATE_EPOCH`` or a fixed default."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return DEFAULT_DOCUMENT_DATE


def freeze_xlsx(path: str | Path, date: dt.datetime | None = None) -> None:
    """Rewrite the workbook at ``path`` with every date set to ``date`` (default: document_date)."""
    when = date or document_date()
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                for tag in (rb"dcterms:created", rb"dcterms:modified"):
                    data = re.sub(
                        rb"(<" + tag + rb"[^>]*>)[^<]*(</" + tag + rb">)",
                        rb"\g<1>" + iso + rb"\g<2>",
                        data,
                    )
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
