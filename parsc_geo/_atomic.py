"""Atomic writes: every output is written to a temporary file beside it, then renamed over it.

An interrupted write never leaves a half-written output, and an existing output is replaced only
when asked (``overwrite``). Files get the permissions a plain ``open(path, "w")`` would give
(the umask applied), not the owner-only mode of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import OutputError


def file_mode() -> int:
    """Return the permissions of a new file under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path``.

    Parameters
    ----------
    path
        The output. Its folder is created if missing.
    overwrite
        Replace an existing output; otherwise an existing one raises before anything is written.

    Raises
    ------
    OutputError
        When ``path`` exists and ``overwrite`` is False, or it cannot be written.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(
            f"la salida ya existe: {target}",
            hint="use overwrite=True (--overwrite) para reemplazarla, o elija otro nombre",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=target.suffix or ".tmp", dir=target.parent
        )
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"no se puede escribir {target}: {exc.strerror or exc}") from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
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
