"""KML/KMZ reader for Google Earth and Google My Maps exports (parsed with defusedxml).

Each Placemark with a point becomes a row with:

``NAME``, ``DESCRIPTION`` (HTML removed), ``FOLDER`` (innermost folder name — My Maps writes one
folder per layer, which police analysts often use for the crime type), ``FOLDER_PATH``
(``"A / B"``), ``KML_WHEN`` (``TimeStamp/when`` or ``TimeSpan/begin``), every ``ExtendedData``
field (``Data``/``value`` and ``SchemaData``/``SimpleData``), and ``key: value`` lines of the
description when they do not clash with ExtendedData (My Maps repeats sheet columns there).

A placemark whose geometry holds several points (a ``MultiGeometry``) is not one place: its row
has no point and says why. Every ``.kml`` of a KMZ is read. Folders may nest to any depth, and a
KMZ that expands beyond :data:`MAX_EXPANDED_BYTES` (or :data:`MAX_RATIO` times its size) is
refused as a zip bomb.

:func:`read_kml` parses each document into one tree; :class:`KmlFile` streams a large file's
placemarks a chunk at a time (a distributed run's ingestion), giving the same rows.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from .._errors import InputDataError
from ._streamed import ReadWhole, StreamedFile
from ._table import RawTable

logger = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<\s*br\s*/?\s*>|</\s*p\s*>|</\s*div\s*>", re.IGNORECASE)
_KV = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(.*?)\s*$")
_GEOMETRY_TYPES = frozenset(
    {"Point", "LineString", "Polygon", "MultiGeometry", "LinearRing", "Track", "MultiTrack"}
)
#: Largest KML document read, expanded (a KMZ) or not.
MAX_EXPANDED_BYTES = 256 * 2**20
#: Largest expansion ratio of a KMZ (expanded size / archive size) once past
#: :data:`RATIO_FROM_BYTES`; KML compresses about 10–30 times.
MAX_RATIO = 100
RATIO_FROM_BYTES = 16 * 2**20


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(elem: Any) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _child(elem: Any, name: str) -> Any:
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _description_lines(raw: str) -> tuple[str, dict[str, str]]:
    text = _BR.sub("\n", raw)
    text = html.unescape(_TAG.sub("", text))
    fields: dict[str, str] = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if m and m.group(2):
            fields.setdefault(m.group(1).strip(), m.group(2))
    clean = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return clean, fields


def _point_of(placemark: Any) -> tuple[float, float, str]:
    """Return lon, lat of the placemark's point, or NaN and what was found instead.

    A placemark with exactly one ``Point`` (also inside a ``MultiGeometry``) gives it; several
    points are not one place (``"MultiGeometry con 2 puntos"``); a placemark without points
    gives its geometry type.
    """
    nan = float("nan")
    points = [e for e in placemark.iter() if _local(e.tag) == "Point"]
    if len(points) > 1:
        return nan, nan, f"MultiGeometry con {len(points)} puntos"
    if points:
        parts = _text(_child(points[0], "coordinates")).replace("\n", " ").split()
        if not parts:
            return nan, nan, "empty"
        values = parts[0].split(",")
        try:
            return float(values[0]), float(values[1]), ""
        except (ValueError, IndexError):
            return nan, nan, f"unreadable coordinates {parts[0][:40]!r}"
    for elem in placemark.iter():
        name = _local(elem.tag)
        if name in _GEOMETRY_TYPES and name != "MultiGeometry":
            return nan, nan, name
    return nan, nan, "empty"


def _placemark_row(child: Any, folders: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "NAME": _text(_child(child, "name")),
        "FOLDER": folders[-1] if folders else "",
        "FOLDER_PATH": " / ".join(folders),
    }
    desc_raw = _text(_child(child, "description"))
    desc, desc_fields = _description_lines(desc_raw)
    row["DESCRIPTION"] = desc
    when = ""
    for elem in child.iter():
        tag = _local(elem.tag)
        if tag == "when" or tag == "begin":
            when = _text(elem)
            break
    row["KML_WHEN"] = when
    extended: dict[str, str] = {}
    ext = _child(child, "ExtendedData")
    if ext is not None:
        for elem in ext.iter():
            tag = _local(elem.tag)
            if tag == "Data" and elem.get("name"):
                extended[elem.get("name")] = _text(_child(elem, "value"))
            elif tag == "SimpleData" and elem.get("name"):
                extended[elem.get("name")] = _text(elem)
    for key, value in desc_fields.items():
        if key not in extended and key.upper() not in row:
            extended[key] = value
    for key, value in extended.items():
        if key.upper() in ("NAME", "FOLDER", "FOLDER_PATH", "DESCRIPTION", "KML_WHEN"):
            key = f"{key}_DATA"
        row[key] = value
    return row


def _walk(root: Any, rows: list[dict[str, Any]], geo: list[tuple[float, float, str]]) -> int:
    """Collect the placemarks under ``root`` in document order; return the NetworkLinks seen.

    The walk keeps its own stack, so that any depth of nested folders is read.
    """
    links = 0
    stack: list[tuple[Any, list[str]]] = [(iter(root), [])]
    while stack:
        children, folders = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        name = _local(child.tag)
        if name in ("Folder", "Document"):
            title = _text(_child(child, "name"))
            path = [*folders, title] if (title and name == "Folder") else folders
            stack.append((iter(child), path))
        elif name == "Placemark":
            rows.append(_placemark_row(child, folders))
            geo.append(_point_of(child))
        elif name == "NetworkLink":
            links += 1
    return links


def _kml_members(path: Path) -> list[tuple[str, bytes]]:
    """Return (name, bytes) of the KML documents of a KMZ (or of a plain KML file).

    The expanded size is bounded (:data:`MAX_EXPANDED_BYTES`, and :data:`MAX_RATIO` times the
    archive's size once past :data:`RATIO_FROM_BYTES`): a zip bomb is refused before it fills
    the memory.
    """
    out: list[tuple[str, bytes]] = []
    for name, stream in _member_streams(path):
        with stream:
            chunks: list[bytes] = []
            while chunk := stream.read(1 << 20):
                chunks.append(chunk)
            out.append((name, b"".join(chunks)))
    return out


def _member_streams(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield (name, binary stream) of the KML documents of a KMZ (or of a plain KML file).

    A KMZ's members are read through a count of their expanded bytes (see
    :func:`_kml_members`); each stream is closed by its reader.
    """
    if not (path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path)):
        size = path.stat().st_size
        if size > MAX_EXPANDED_BYTES:
            raise InputDataError(
                f"{path.name}: el KML pesa {size / 2**20:.0f} MiB; el máximo es "
                f"{MAX_EXPANDED_BYTES // 2**20} MiB",
                hint="divídalo en archivos más pequeños (p. ej. por mes o por carpeta)",
            )
        yield path.name, path.open("rb")
        return
    archive_size = max(path.stat().st_size, 1)
    with _kmz_errors(path), zipfile.ZipFile(path) as zf:
        names = _kml_names(zf)
        if not names:
            raise InputDataError(f"{path.name}: el archivo KMZ no contiene ningún .kml")
        counted = _Expanded(path, archive_size)
        for name in names:
            yield name, counted.open(zf, name)


def _kml_names(zf: zipfile.ZipFile) -> list[str]:
    """Return the KML documents of a KMZ in reading order: ``doc.kml`` first, then by name."""
    names = [
        info.filename
        for info in zf.infolist()
        if info.filename.lower().endswith(".kml")
        and not info.is_dir()
        and not info.filename.startswith("__MACOSX")
    ]
    if not names:
        return []
    main = "doc.kml" if "doc.kml" in names else names[0]
    return [main, *sorted(n for n in names if n != main)]


@contextlib.contextmanager
def _kmz_errors(path: Path) -> Iterator[None]:
    """Turn a KMZ's zip and zlib errors into :class:`InputDataError` (in Spanish)."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise InputDataError(
            f"{path.name}: no es un archivo KMZ (zip) válido ({exc})",
            hint="expórtelo de nuevo desde Google Earth o Google My Maps",
        ) from exc
    except (OSError, RuntimeError) as exc:  # zlib errors, encrypted members
        raise InputDataError(
            f"{path.name}: no se puede descomprimir el KMZ ({exc})",
            hint="expórtelo de nuevo desde Google Earth o Google My Maps",
        ) from exc


class _Expanded:
    """The bytes expanded from a KMZ's members so far, checked as they are read."""

    def __init__(self, path: Path, archive_size: int) -> None:
        self.path = path
        self.archive_size = archive_size
        self.total = 0

    def open(self, zf: zipfile.ZipFile, name: str) -> IO[bytes]:
        """Return member ``name`` as a stream whose reads count (and check) its bytes."""
        return io.BufferedReader(_CountedMember(zf.open(name), self))


class _CountedMember(io.RawIOBase):
    """A KMZ member read through :class:`_Expanded` (a zip bomb stops the read)."""

    def __init__(self, member: IO[bytes], expanded: _Expanded) -> None:
        super().__init__()
        self._member = member
        self._expanded = expanded

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with _kmz_errors(self._expanded.path):
            data = self._member.read(-1 if size is None else size)
        self._expanded.total += len(data)
        _check_expansion(self._expanded.path, self._expanded.total, self._expanded.archive_size)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        super().close()


def _check_expansion(path: Path, total: int, archive_size: int) -> None:
    too_big = total > MAX_EXPANDED_BYTES
    too_packed = total > RATIO_FROM_BYTES and total / archive_size > MAX_RATIO
    if too_big or too_packed:
        raise InputDataError(
            f"{path.name}: el KMZ se expande a más de {total / 2**20:.0f} MiB "
            f"(un archivo de {archive_size / 2**20:.1f} MiB); posible bomba zip: no se lee",
            hint=f"un KMZ legítimo se expande menos de {MAX_RATIO} veces y a menos de "
            f"{MAX_EXPANDED_BYTES // 2**20} MiB: descomprímalo y revise su contenido",
        )


def read_kml(path: str | Path) -> RawTable:
    """Read placemarks of a KML or KMZ file (see the module docstring for the columns).

    Every ``.kml`` inside a KMZ is read (``doc.kml`` first); when there are several, a
    ``KML_FILE`` column names each row's document and ``info["warnings"]`` says so.

    Raises
    ------
    InputDataError
        When the file is not well-formed XML, is unsafe (entity expansion, external entities),
        or is a KMZ that expands beyond the limits (a zip bomb).
    """
    import numpy as np
    import pandas as pd
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    path = Path(path)
    members = _kml_members(path)
    rows: list[dict[str, Any]] = []
    geo: list[tuple[float, float, str]] = []
    links = 0
    counts: list[tuple[str, int]] = []
    for name, data in members:
        try:
            root = fromstring(data)
        except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            where = f" ({name})" if len(members) > 1 else ""
            raise InputDataError(
                f"{path.name}{where}: no es un archivo KML legible ({exc})",
                hint="expórtelo de nuevo desde Google Earth o Google My Maps (KML/KMZ)",
            ) from exc
        before = len(rows)
        links += _walk(root, rows, geo)
        if len(members) > 1:
            for row in rows[before:]:
                row["KML_FILE"] = name
        counts.append((name, len(rows) - before))
    warnings: list[str] = []
    if len(members) > 1:
        warnings.append(
            f"el KMZ contiene {len(members)} documentos .kml y se leyeron todos: "
            + ", ".join(f"{name} ({k} marcas)" for name, k in counts)
        )
    if links:
        warnings.append(
            f"{links} enlace(s) de red (NetworkLink) no se leyeron: sus marcas están en otro "
            "archivo o servidor; expórtelas y añádalas"
        )
    df = pd.DataFrame(rows)
    df = df.astype(object).where(df.notna().to_numpy(), "") if len(df) else df
    n = len(df)
    x = np.array([g[0] for g in geo], dtype=float) if n else np.empty(0)
    y = np.array([g[1] for g in geo], dtype=float) if n else np.empty(0)
    problem = np.array([g[2] for g in geo], dtype=object) if n else np.empty(0, dtype=object)
    info: dict[str, Any] = {"format": "KMZ" if path.suffix.lower() == ".kmz" else "KML"}
    if len(members) > 1:
        info["kml_files"] = dict(counts)
    if warnings:
        info["warnings"] = warnings
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(1, n + 1, dtype=np.int64),
        kind="kml",
        geom_x=x,
        geom_y=y,
        geom_problem=problem,
        crs="EPSG:4326",
        info=info,
    )


#: A KML file (or a KMZ archive whose documents expand to) of this many bytes or more is read
#: by :class:`KmlFile`, its placemarks streamed a chunk at a time, never as one XML tree.
STREAM_MIN_BYTES = 16 * 2**20
#: Placemarks of a chunk read by :class:`KmlFile`.
CHUNK_PLACEMARKS = 250_000
_PARSE_ERRORS: Final = (ValueError, LookupError, SyntaxError)


def document_bytes(path: str | Path) -> int:
    """Return the bytes of a KML file's text, or of a KMZ's ``.kml`` documents as declared.

    The size :class:`KmlFile` is chosen by (:data:`STREAM_MIN_BYTES`): a KMZ's documents are
    10–30 times its size. A declared size that lies only changes how the file is read: both
    readings bound what they expand.
    """
    path = Path(path)
    size = path.stat().st_size
    if not (path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path)):
        return size
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(zf.getinfo(name).file_size for name in _kml_names(zf))
    except (zipfile.BadZipFile, OSError, ValueError):  # read whole: it says why
        return size


@dataclass
class _Container:
    """An open element whose children :func:`_walk` visits (the root, a Folder, a Document)."""

    elem: Any
    folder: bool
    #: its name (a Folder's first ``name`` child), None until read
    title: str | None = None
    #: a placemark below it was read before its name
    used: bool = False


def _stream(
    source: IO[bytes], links: list[int]
) -> Iterator[tuple[dict[str, Any], tuple[float, float, str]]]:
    """Yield the row and point of each placemark of a KML document, as :func:`_walk` finds them.

    The tree is never held: each placemark (and any other element the walk visits) is dropped
    once read. The NetworkLinks seen are added to ``links[0]``. The parser is defusedxml's, as
    :func:`read_kml`'s: no entity expansion, no external entities.

    Raises
    ------
    ReadWhole
        When a folder's name comes after a placemark in it (read whole: the placemark's row
        names the folder).
    """
    from defusedxml.ElementTree import iterparse

    # per open element: the container whose children the walk visits, or None
    open_: list[_Container | None] = []
    for event, elem in iterparse(source, events=("start", "end")):
        if event == "start":
            if not open_:
                open_.append(_Container(elem, folder=False))
            elif open_[-1] is not None and _local(elem.tag) in ("Folder", "Document"):
                open_.append(_Container(elem, folder=_local(elem.tag) == "Folder"))
            else:
                open_.append(None)
            continue
        open_.pop()
        if not open_:
            break
        parent = open_[-1]
        if parent is None:
            continue  # inside a placemark or an element the walk does not visit
        name = _local(elem.tag)
        if name == "Placemark":
            chain = [c for c in open_ if c is not None]
            for c in chain:
                if c.folder and c.title is None:
                    c.used = True
            folders = [c.title for c in chain if c.folder and c.title]
            yield _placemark_row(elem, folders), _point_of(elem)
        elif name == "NetworkLink":
            links[0] += 1
        elif name == "name" and parent.folder and parent.title is None:
            parent.title = _text(elem)
            if parent.used and parent.title:
                raise ReadWhole("el nombre de una carpeta va después de sus marcas")
        parent.elem.remove(elem)


@dataclass
class _Plan:
    """What a first pass over a KML or KMZ file found: its columns, counts and info."""

    members: int = 0
    columns: dict[str, None] = field(default_factory=dict)
    rows: int = 0
    info: dict[str, Any] = field(default_factory=dict)


class KmlFile(StreamedFile[_Plan]):
    """A KML or KMZ file's placemarks read a chunk at a time (:data:`CHUNK_PLACEMARKS`).

    :meth:`chunks` yields the rows :func:`read_kml` reads (the same columns, values, row
    numbers, points and ``info``) as :class:`RawTable` chunks, streamed by an XML pull parser
    (defusedxml's ``iterparse``: no entity expansion, no external entities) that drops each
    placemark once read: a first pass finds the columns (every ``ExtendedData`` field of any
    placemark) and the counts of the report, a second one reads the rows. A file the
    streamed reading does not take (not well-formed, too large, a folder named after its
    placemarks …) is read whole by :func:`read_kml`, in one chunk, with the reason in
    :attr:`whole_reason`. :meth:`chunk` reads chunk ``k`` again.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)

    def _read_whole(self) -> RawTable:
        """Return every row, read at once (the file the stream does not take)."""
        return read_kml(self.path)

    def _documents(self) -> Iterator[tuple[str, IO[bytes], int]]:
        """Yield (name, stream, documents) of the file's KML documents."""
        path = self.path
        if path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path):
            with _kmz_errors(path), zipfile.ZipFile(path) as zf:
                documents = len(_kml_names(zf))
        else:
            documents = 1
        for name, stream in _member_streams(path):
            yield name, stream, documents

    def _scan(self) -> _Plan:
        """Return the columns, counts and info of the file (a first pass over it)."""
        from defusedxml import DefusedXmlException

        plan = _Plan()
        counts: list[tuple[str, int]] = []
        links = [0]
        try:
            for name, stream, documents in self._documents():
                plan.members = documents
                before = plan.rows
                with stream:
                    for row, _point in _stream(stream, links):
                        if documents > 1:
                            row["KML_FILE"] = name
                        plan.columns.update(dict.fromkeys(row))
                        plan.rows += 1
                counts.append((name, plan.rows - before))
        except (InputDataError, DefusedXmlException, *_PARSE_ERRORS) as exc:
            raise ReadWhole(f"{type(exc).__name__}: {exc}") from exc
        warnings: list[str] = []
        if plan.members > 1:
            warnings.append(
                f"el KMZ contiene {plan.members} documentos .kml y se leyeron todos: "
                + ", ".join(f"{name} ({k} marcas)" for name, k in counts)
            )
        if links[0]:
            warnings.append(
                f"{links[0]} enlace(s) de red (NetworkLink) no se leyeron: sus marcas están en "
                "otro archivo o servidor; expórtelas y añádalas"
            )
        info: dict[str, Any] = {"format": "KMZ" if self.path.suffix.lower() == ".kmz" else "KML"}
        if plan.members > 1:
            info["kml_files"] = dict(counts)
        if warnings:
            info["warnings"] = warnings
        plan.info = info
        return plan

    def _read(self) -> Iterator[RawTable]:
        """Yield the placemarks, :attr:`_size` at a time (a second pass)."""
        assert self._plan is not None and self._size is not None
        plan, size = self._plan, self._size
        columns = list(plan.columns)
        rows: list[dict[str, Any]] = []
        geo: list[tuple[float, float, str]] = []
        done = 0
        for name, stream, documents in self._documents():
            with stream:
                for row, point in _stream(stream, [0]):
                    if documents > 1:
                        row["KML_FILE"] = name
                    rows.append(row)
                    geo.append(point)
                    if len(rows) == size:
                        yield _kml_table(self.path, rows, geo, columns, done, plan)
                        done += len(rows)
                        rows, geo = [], []
        if rows or not done:
            yield _kml_table(self.path, rows, geo, columns, done, plan)


def _kml_table(
    path: Path,
    rows: list[dict[str, Any]],
    geo: list[tuple[float, float, str]],
    columns: list[str],
    start: int,
    plan: _Plan,
) -> RawTable:
    """Return placemarks ``start…`` as :func:`read_kml` reads them (the file's columns)."""
    import numpy as np
    import pandas as pd

    n = len(rows)
    df = pd.DataFrame(rows, columns=columns) if plan.rows else pd.DataFrame(rows)
    df = df.astype(object).where(df.notna().to_numpy(), "") if len(df) else df
    x = np.array([g[0] for g in geo], dtype=float) if n else np.empty(0)
    y = np.array([g[1] for g in geo], dtype=float) if n else np.empty(0)
    problem = np.array([g[2] for g in geo], dtype=object) if n else np.empty(0, dtype=object)
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(start + 1, start + n + 1, dtype=np.int64),
        kind="kml",
        geom_x=x,
        geom_y=y,
        geom_problem=problem,
        crs="EPSG:4326",
        info=dict(plan.info),
    )
