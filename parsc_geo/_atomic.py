"""Atomic writes: every output is written to a temporary file beside it, then renamed over it.

An interrupted write never leaves a half-written output, and an existing output is replaced only
when asked (``overwrite``). Files get the permissions a plain ``open(path, "w")`` would give
(the umask applied), not the owner-only mode of :func:`tempfile.mkstemp`.

Temporary files and folders are named ``.parsc-tmp-<pid>-<start>-<random><suffix>``: the
process id and start time of their owner make them *provably ours*, so that what a killed
process (``kill -9``, power cut) left behind is removed on the next start
(:func:`remove_stale_temporaries`) while the temporaries of a live process are never touched.
The name does not repeat the target's name, so an output whose name is close to the
file-system limit (255 bytes) can still be written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from ._errors import OutputError

#: Prefix of every temporary file or folder parsc-geo creates beside an output.
TEMP_PREFIX = ".parsc-tmp-"
#: Longest file name most file systems accept (bytes), used where ``pathconf`` cannot tell.
NAME_MAX = 255

_TEMP_NAME = re.compile(r"^\.parsc-tmp-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}")


def file_mode() -> int:
    """Return the permissions of a new file under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


# -- who owns a temporary -------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """Return the start time of process ``pid`` (clock ticks since boot, from ``/proc``).

    None when the process does not exist or is a zombie (dead, not yet reaped); ``"0"`` on
    systems without ``/proc``, where only the process id can be checked.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return "0"
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else "0"


@lru_cache(maxsize=4)
def _tag_of(pid: int) -> str:
    start = _process_start(pid) if os.path.exists("/proc/self/stat") else "0"
    return f"{pid}-{start or '0'}"


def owner_tag() -> str:
    """Return ``<pid>-<start time>`` of this process: who owns the temporaries it creates."""
    return _tag_of(os.getpid())


def owner_alive(pid: int, start: str) -> bool:
    """Return whether the process that wrote ``<pid>-<start>`` into a name is still running.

    A recycled process id is told apart by its start time (where ``/proc`` exists). When
    nothing can be checked the owner counts as alive: a temporary is removed only when its
    owner is provably dead.
    """
    if pid == os.getpid():
        return start == owner_tag().split("-", 1)[1]
    if os.path.exists("/proc/self/stat"):
        current = _process_start(pid)
        if current is None:
            return False
        return start == "0" or current == "0" or current == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def temp_name(suffix: str = "") -> str:
    """Return a fresh name for a temporary of this process (see the module docstring)."""
    if len(suffix.encode()) > 24:
        suffix = ".tmp"
    return f"{TEMP_PREFIX}{owner_tag()}-{secrets.token_hex(4)}{suffix}"


def stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the temporaries in ``folder`` whose owner process is dead (sorted)."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and not owner_alive(int(match["pid"]), match["start"]):
            found.append(Path(entry.path))
    return sorted(found)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove what dead parsc-geo processes left in ``folder``; return what was removed.

    Only names made by :func:`temp_name` whose owner is dead are touched: a half-written
    output, a copy of a workspace, a run's staging folder. Nothing else in the folder is.
    """
    removed = []
    for path in stale_temporaries(folder):
        with contextlib.suppress(FileNotFoundError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


_CLEANED: set[str] = set()


def _clean_once(folder: Path) -> None:
    """Remove stale temporaries of ``folder`` the first time this process writes there."""
    key = os.path.normcase(str(folder))
    if key not in _CLEANED:
        remove_stale_temporaries(folder)
        _CLEANED.add(key)


# -- names ----------------------------------------------------------------------------------


def _name_max(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(os.pathconf(probe, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):
        return NAME_MAX


def check_name(path: str | os.PathLike[str]) -> Path:
    """Return ``path``, or raise :class:`OutputError` if a part of it is too long a name.

    File systems refuse names over 255 bytes (UTF-8); the error names the part and its length
    instead of a bare ``File name too long``.
    """
    target = Path(path)
    limit = _name_max(target.parent)
    for part in target.parts:
        size = len(os.fsencode(part))
        if size > limit:
            shown = part if len(part) <= 60 else f"{part[:40]}…{part[-12:]}"
            raise OutputError(
                f"el nombre {shown!r} tiene {size} bytes; el sistema de archivos admite "
                f"como máximo {limit}",
                hint="elija un nombre de salida más corto",
            )
    return target


def real_target(path: str | os.PathLike[str]) -> Path:
    """Return the file that writing ``path`` must replace: a symlink's target, not the link.

    Replacing a symbolic link by a plain file would silently fork the data (the link's
    target keeps the old content); parsc-geo writes through links instead.
    """
    return Path(os.path.realpath(path))


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file, or a folder's entries, to disk (so a rename survives a power cut).

    Best effort: where the system cannot (some file systems, Windows folders) nothing happens.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- writing --------------------------------------------------------------------------------


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            check_name(path)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path``.

    Parameters
    ----------
    path
        The output. Its folder is created if missing. A symbolic link is written through
        (its target is replaced, the link stays).
    overwrite
        Replace an existing output; otherwise an existing one raises before anything is written.

    Raises
    ------
    OutputError
        When ``path`` exists and ``overwrite`` is False, its name is too long, or it cannot be
        written.
    """
    given = check_name(path)
    if _exists(given) and not overwrite:
        raise OutputError(
            f"la salida ya existe: {given}",
            hint="use overwrite=True (--overwrite) para reemplazarla, o elija otro nombre",
        )
    target = real_target(given)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _clean_once(target.parent)
        tmp = target.parent / temp_name(target.suffix or ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"no se puede escribir {given}: {exc.strerror or exc}") from exc
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        fsync_path(tmp)
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                leftover.unlink()
        raise


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise OutputError(f"no se puede escribir {target}: {exc.strerror or exc}") from exc
    return target


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, overwrite: bool = False, encoding: str = "utf-8"
) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default) and return the path."""
    return write_bytes_atomic(path, text.encode(encoding), overwrite=overwrite)


def make_temp_dir(parent: str | os.PathLike[str], suffix: str = "") -> Path:
    """Create and return a temporary folder of this process in ``parent`` (umask permissions).

    Unlike :func:`tempfile.mkdtemp` (mode 0700), the folder gets the permissions a plain
    ``mkdir`` gives, because it becomes an output folder when a run succeeds.
    """
    folder = Path(parent)
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        candidate = folder / temp_name(suffix)
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise OutputError(f"no se puede crear una carpeta temporal en {folder}")  # pragma: no cover


__all__ = [
    "NAME_MAX",
    "TEMP_PREFIX",
    "atomic_path",
    "check_name",
    "file_mode",
    "fsync_path",
    "make_temp_dir",
    "owner_alive",
    "owner_tag",
    "real_target",
    "remove_stale_temporaries",
    "stale_temporaries",
    "temp_name",
    "write_bytes_atomic",
    "write_text_atomic",
]
