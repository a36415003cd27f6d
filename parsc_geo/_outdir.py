"""Output folders that only ever lose what parsc-geo wrote into them.

A run writes everything into a staging folder beside its output folder and moves it into
place only when every stage succeeded (:func:`staged_output`). The output folder may hold the
user's own files too (notes, a spreadsheet built on the tables): they are never removed,
moved or overwritten.

The manifest
    Every output folder parsc-geo fills gets ``.parsc-geo-manifest.json``: the files and
    folders it wrote (paths relative to the folder). Replacing an output (``--overwrite``,
    ``demo``) removes exactly those and nothing else. A non-empty folder without a manifest is
    not a parsc-geo output and is refused (exit 5). Outputs of earlier versions, which have no
    manifest, are recognised by their ``run.json`` (it lists every file written).

Replacing an output
    A new output folder is created by renaming the staging folder (atomic). An existing one is
    changed in place: its old files move into a *swap* folder
    (``.parsc-swap-<pid>-<start>-<random>`` beside it, with a journal), the new files move in,
    the manifest is written, and the journal is marked done before the swap folder is removed.
    A process killed in between (``kill -9``, power cut) leaves the swap folder: the next start
    (:func:`recover`) puts the previous output back exactly as it was, from the journal, and
    removes the parts of the interrupted one. Staging folders of dead processes are removed
    (:func:`parsc_geo._atomic.remove_stale_temporaries`).

Concurrency
    The folder's lock (:mod:`parsc_geo._lock`) is held from the check of the folder to the end
    of the swap: a second run into the same folder waits for the first.

Nothing here ever removes a folder the user named: only files listed in a manifest, folders
that became empty after those files left, and temporaries provably made by parsc-geo.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._atomic import (
    check_name,
    fsync_path,
    make_temp_dir,
    owner_alive,
    owner_tag,
    remove_stale_temporaries,
    write_text_atomic,
)
from ._errors import OutputError
from ._lock import exclusive

logger = logging.getLogger(__name__)

#: Name of the manifest written into every output folder.
MANIFEST = ".parsc-geo-manifest.json"
#: Prefix of the swap folders that hold a previous output while it is being replaced.
SWAP_PREFIX = ".parsc-swap-"
_JOURNAL = "journal.json"
_SWAP_NAME = re.compile(r"^\.parsc-swap-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}$")


# -- the manifest ---------------------------------------------------------------------------


def folder_contents(folder: Path) -> tuple[list[str], list[str]]:
    """Return the files and the sub-folders under ``folder`` (relative POSIX paths, sorted)."""
    files, dirs = [], []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            dirs.append(rel)
        else:
            files.append(rel)
    return sorted(files), sorted(dirs)


def manifest_record(files: list[str], dirs: list[str]) -> dict[str, Any]:
    """Return the manifest of an output folder holding ``files`` in ``dirs``."""
    from . import __version__

    return {
        "generator": "parsc-geo",
        "version": __version__,
        "files": sorted(f for f in files if f != MANIFEST),
        "dirs": sorted(dirs),
    }


def write_manifest(folder: Path) -> dict[str, Any]:
    """Write the manifest of everything now in ``folder`` (a folder parsc-geo just filled)."""
    files, dirs = folder_contents(folder)
    record = manifest_record(files, dirs)
    write_text_atomic(
        folder / MANIFEST,
        json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        overwrite=True,
    )
    return record


def _safe_relative(items: Any) -> list[str]:
    """Keep the entries of a manifest that are plain relative paths inside the folder."""
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, str) or not item:
            continue
        parts = Path(item).parts
        if Path(item).is_absolute() or ".." in parts or item.startswith("/"):
            continue
        out.append(Path(item).as_posix())
    return out


def read_manifest(folder: Path) -> dict[str, list[str]] | None:
    """Return ``{"files": …, "dirs": …}`` that parsc-geo wrote into ``folder``, or None.

    The manifest is read when present; otherwise a ``run.json`` of an earlier parsc-geo run
    (with ``parsc_geo_version`` and the list of ``outputs``) stands for it. Entries that are
    not plain relative paths inside the folder are ignored, whatever the file says.
    """
    manifest = folder / MANIFEST
    legacy = folder / "run.json"
    record: Any = None
    if manifest.is_file():
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("generator") != "parsc-geo":
            return None
        files = _safe_relative(record.get("files"))
        return {"files": [*files, MANIFEST], "dirs": _safe_relative(record.get("dirs"))}
    if legacy.is_file():
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(legacy.read_text(encoding="utf-8"))
        if isinstance(record, dict) and "parsc_geo_version" in record:
            files = _safe_relative(record.get("outputs"))
            dirs = sorted({Path(f).parent.as_posix() for f in files} - {"."})
            # parents of parents (mapas/lib/… → mapas)
            for d in list(dirs):
                dirs.extend(p.as_posix() for p in Path(d).parents if p.as_posix() != ".")
            return {"files": files, "dirs": sorted(set(dirs))}
    return None


def check_output_folder(output: Path, *, overwrite: bool) -> dict[str, list[str]]:
    """Return what parsc-geo wrote in ``output`` (empty for a new or empty folder).

    Raises
    ------
    OutputError
        ``output`` is a file; it is a parsc-geo output and ``overwrite`` is False; or it is
        not empty and not a parsc-geo output (whatever ``overwrite`` says).
    """
    empty: dict[str, list[str]] = {"files": [], "dirs": []}
    if not output.exists():
        return empty
    if not output.is_dir():
        raise OutputError(
            f"la salida {output} es un archivo, no una carpeta",
            hint="indique una carpeta nueva o vacía con --output/-o",
        )
    if not any(output.iterdir()):
        return empty
    ours = read_manifest(output)
    if ours is None:
        raise OutputError(
            f"la carpeta de salida {output} no está vacía y no es una salida de parsc-geo "
            f"(no tiene {MANIFEST}): no se escribe en ella",
            hint="indique una carpeta nueva o vacía con --output/-o; --overwrite solo "
            "reemplaza salidas anteriores de parsc-geo y nunca borra archivos ajenos",
        )
    if not overwrite:
        raise OutputError(
            f"la carpeta de salida {output} existe y no está vacía",
            hint="use --overwrite para reemplazar la salida anterior (solo los archivos que "
            "escribió parsc-geo), o elija otro --output",
        )
    return ours


# -- replacing an output --------------------------------------------------------------------


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _write_journal(swap: Path, journal: dict[str, Any]) -> None:
    write_text_atomic(
        swap / _JOURNAL, json.dumps(journal, ensure_ascii=False, indent=2), overwrite=True
    )
    fsync_path(swap)


def _remove_empty_dirs(root: Path, dirs: list[str]) -> None:
    """Remove those of ``dirs`` (relative to ``root``) that are empty now, deepest first."""
    for rel in sorted(set(dirs), key=lambda d: d.count("/"), reverse=True):
        with contextlib.suppress(OSError):
            (root / rel).rmdir()  # only succeeds on an empty folder


def commit(staging: Path, output: Path, previous: dict[str, list[str]]) -> None:
    """Put the contents of ``staging`` in place of the parsc-geo files of ``output``.

    ``previous`` is what :func:`check_output_folder` returned. The caller holds the lock of
    ``output``. Files of others in ``output`` stay where they are; a file of others at a
    path the new output needs stops the commit before anything moved.
    """
    files, dirs = folder_contents(staging)
    if not output.exists():
        os.replace(staging, output)
        fsync_path(output.parent)
        return
    old_files = [
        f for f in previous["files"] if (output / f).is_file() or (output / f).is_symlink()
    ]
    old_set = set(old_files)
    clashes = [
        f
        for f in files
        if f not in old_set and ((output / f).exists() or (output / f).is_symlink())
    ]
    clashes += [d for d in dirs if (output / d).exists() and not (output / d).is_dir()]
    if clashes:
        raise OutputError(
            f"la carpeta de salida {output} tiene archivos que no escribió parsc-geo donde "
            f"van los nuevos resultados: {', '.join(clashes[:5])}"
            + (" …" if len(clashes) > 5 else ""),
            hint="muévalos o elija otra carpeta con --output/-o; no se modificó nada",
        )
    created = [d for d in dirs if not (output / d).exists()]
    swap = output.parent / f"{SWAP_PREFIX}{owner_tag()}-{secrets.token_hex(4)}"
    swap.mkdir()
    journal: dict[str, Any] = {
        "output": str(output),
        "old_files": old_files,
        "old_dirs": previous["dirs"],
        "new_files": files,
        "new_dirs_created": created,
        "state": "moving",
    }
    _write_journal(swap, journal)
    try:
        for rel in old_files:
            _move(output / rel, swap / "files" / rel)
        for rel in files:
            _move(staging / rel, output / rel)
        _remove_empty_dirs(output, [d for d in previous["dirs"] if d not in set(dirs)])
        fsync_path(output)
        journal["state"] = "done"
        _write_journal(swap, journal)
    except BaseException:
        # an error (disk full, Ctrl-C) halfway: put the previous output back now; a kill
        # leaves this to the next start (recover)
        _roll_back(swap, journal)
        shutil.rmtree(swap, ignore_errors=True)
        raise
    shutil.rmtree(swap, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _roll_back(swap: Path, journal: dict[str, Any]) -> None:
    """Put back the previous output from ``swap``; remove the interrupted one's files."""
    output = Path(journal["output"])
    saved = swap / "files"
    old = set(_safe_relative(journal.get("old_files")))
    for rel in _safe_relative(journal.get("new_files")):
        target = output / rel
        # a path of both outputs whose old file has not been moved out yet is the old file
        if rel in old and not (saved / rel).exists():
            continue
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            target.unlink()
    for rel in sorted(old):
        if (saved / rel).exists() or (saved / rel).is_symlink():
            _move(saved / rel, output / rel)
    _remove_empty_dirs(output, _safe_relative(journal.get("new_dirs_created")))
    fsync_path(output)


def recover(output: Path) -> list[str]:
    """Finish what killed runs left beside ``output``; return what was done (for messages).

    A swap folder of a dead process whose journal names ``output`` is rolled back (the
    previous output restored) unless the swap was complete; then it is removed. Temporaries
    of dead processes beside ``output`` are removed. The caller holds the lock of ``output``.
    """
    done: list[str] = []
    parent = output.parent
    if not parent.is_dir():
        return done
    for entry in sorted(parent.iterdir()):
        match = _SWAP_NAME.match(entry.name)
        if not match or not entry.is_dir() or owner_alive(int(match["pid"]), match["start"]):
            continue
        try:
            journal = json.loads((entry / _JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None
        if journal is None:
            # killed before its journal was written: no file had been moved into it yet
            shutil.rmtree(entry, ignore_errors=True)
            continue
        if Path(str(journal.get("output"))) != output:
            continue
        if journal.get("state") != "done":
            _roll_back(entry, journal)
            done.append(
                f"se restauró la salida anterior de {output} (una ejecución se interrumpió)"
            )
        shutil.rmtree(entry, ignore_errors=True)
    removed = remove_stale_temporaries(parent)
    if removed:
        done.append(f"se eliminaron {len(removed)} temporal(es) de ejecuciones interrumpidas")
    return done


@contextmanager
def staged_output(output: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield a staging folder whose contents replace ``output``'s only if the block succeeds.

    Parameters
    ----------
    output
        The output folder (created if missing). A symbolic link to a folder is written
        through.
    overwrite
        Allow replacing a previous parsc-geo output in ``output``.

    Raises
    ------
    OutputError
        See :func:`check_output_folder` and :func:`commit`; also when the name is too long or
        another process holds the folder for too long.
    """
    given = Path(os.path.abspath(output))
    check_name(given)
    target = Path(os.path.realpath(given))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear {target.parent}: {exc.strerror or exc}") from exc
    with exclusive(target, what=f"la carpeta de salida {given}"):
        for line in recover(target):
            logger.warning("%s", line)
        previous = check_output_folder(target, overwrite=overwrite)
        staging = make_temp_dir(target.parent, ".partial")
        try:
            yield staging
            write_manifest(staging)
            commit(staging, target, previous)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
