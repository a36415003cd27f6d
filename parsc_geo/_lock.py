"""Exclusive locks between parsc-geo processes that change the same workspace or output folder.

Two imports into one workspace must not both copy it, change their copies and rename them
over it (the second would silently drop the first one's rows); two runs must not swap the same
output folder. :func:`exclusive` serialises them: the second process waits, saying so, and
gives up with a clear error after :data:`DEFAULT_TIMEOUT_S` seconds.

The lock is an advisory ``flock`` on a small file beside the target
(``.<name>.parsc-lock``): the kernel releases it when its holder dies, even by ``kill -9``, so
a crash never leaves a workspace locked. The file is removed when the lock is released; a
waiter that finds its file removed or replaced meanwhile simply locks again. On systems
without ``flock`` the lock file is created exclusively and holds its owner's id, and a lock
whose owner died is taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._atomic import owner_alive, owner_tag
from ._errors import OutputError

logger = logging.getLogger(__name__)

#: Seconds a process waits for another one's lock before giving up (environment variable
#: ``PARSC_GEO_LOCK_TIMEOUT`` overrides it).
DEFAULT_TIMEOUT_S = 600.0
#: Seconds between two attempts while waiting.
POLL_S = 0.1

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

# locks this process holds: lock file → (descriptor, depth); the lock is re-entrant
_HELD: dict[str, tuple[int, int]] = {}


def lock_path(target: str | os.PathLike[str]) -> Path:
    """Return the lock file of ``target`` (beside it; hashed when the name would be too long)."""
    real = Path(os.path.realpath(target))
    name = f".{real.name}.parsc-lock"
    if len(name.encode()) > 255:
        name = f".parsc-lock-{hashlib.sha256(real.name.encode()).hexdigest()[:16]}"
    return real.parent / name


def timeout_s() -> float:
    """Return the waiting time: ``PARSC_GEO_LOCK_TIMEOUT`` if set and valid, else the default."""
    try:
        return max(0.0, float(os.environ["PARSC_GEO_LOCK_TIMEOUT"]))
    except (KeyError, ValueError):
        return DEFAULT_TIMEOUT_S


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8").strip()
    return ""


def _try_flock(path: Path) -> int | None:
    """Return a descriptor holding the lock, or None when another process holds it."""
    assert fcntl is not None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    try:
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # the holder removed the file as we opened it: lock the new one
        os.close(fd)
        return _try_flock(path)
    os.ftruncate(fd, 0)
    os.write(fd, f"{owner_tag()}\n".encode())
    return fd


def _try_create(path: Path) -> int | None:  # pragma: no cover - Windows
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pid, _, start = _holder(path).partition("-")
        if pid.isdigit() and not owner_alive(int(pid), start or "0"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return None
    os.write(fd, f"{owner_tag()}\n".encode())
    return fd


def try_lock(target: str | os.PathLike[str]) -> bool:
    """Take the lock of ``target`` if nobody holds it; return whether it was taken.

    A lock taken this way is released with :func:`release`.
    """
    path = lock_path(target)
    key = str(path)
    if key in _HELD:
        held, depth = _HELD[key]
        _HELD[key] = (held, depth + 1)
        return True
    fd: int | None
    try:
        fd = _try_flock(path) if fcntl is not None else _try_create(path)
    except OSError as exc:
        raise OutputError(
            f"no se puede crear el bloqueo {path}: {exc.strerror or exc}",
            hint="compruebe que la carpeta exista y se pueda escribir",
        ) from exc
    if fd is None:
        return False
    _HELD[key] = (fd, 1)
    return True


def release(target: str | os.PathLike[str]) -> None:
    """Release a lock taken with :func:`try_lock` or :func:`exclusive` (removing its file)."""
    path = lock_path(target)
    key = str(path)
    fd, depth = _HELD[key]
    if depth > 1:
        _HELD[key] = (fd, depth - 1)
        return
    del _HELD[key]
    # removed while still held, so that no waiter can lock a file about to disappear
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(fd)


@contextmanager
def exclusive(
    target: str | os.PathLike[str], *, what: str, timeout: float | None = None
) -> Iterator[None]:
    """Hold the lock of ``target`` for the block, waiting for another holder to finish.

    Parameters
    ----------
    target
        The workspace file or output folder (its parent folder must exist).
    what
        How to name the target in messages (``"el espacio de trabajo cajamarca.gpkg"``).
    timeout
        Seconds to wait; None takes :func:`timeout_s`.

    Raises
    ------
    OutputError
        When another process still holds the lock after ``timeout`` seconds.
    """
    limit = timeout_s() if timeout is None else timeout
    started = time.monotonic()
    announced = False
    while not try_lock(target):
        waited = time.monotonic() - started
        if waited >= limit:
            holder = _holder(lock_path(target)).partition("-")[0]
            raise OutputError(
                f"{what} está en uso por otro proceso de parsc-geo"
                + (f" (pid {holder})" if holder.isdigit() else "")
                + f"; se esperó {waited:.0f} s",
                hint="espere a que termine y vuelva a ejecutar el comando "
                "(PARSC_GEO_LOCK_TIMEOUT fija la espera en segundos)",
            )
        if not announced:
            logger.warning(
                "%s está en uso por otro proceso de parsc-geo: esperando a que termine "
                "(como máximo %.0f s)…",
                what,
                limit,
            )
            announced = True
        time.sleep(POLL_S)
    try:
        yield
    finally:
        release(target)
