"""Exception hierarchy of parsc-geo.

Every error a user can cause derives from :class:`ParscGeoError`. The CLI turns these into a
message and a documented exit code, without a traceback (``-v`` shows it).

Exit codes
----------
0
    success.
1
    unexpected internal error (a bug: please report it with the ``-v`` output).
2
    command-line usage error (unknown option, missing argument), as click does.
3
    input data error: a file cannot be read, has no usable columns, or fails validation.
4
    configuration error: a config file, column mapping or parameter value is invalid.
5
    output error: an output exists and ``--overwrite`` was not given, or cannot be written.
6
    missing optional component (a package or a browser that a command needs).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_CONFIG = 4
EXIT_OUTPUT = 5
EXIT_MISSING = 6


class ParscGeoError(Exception):
    """Root of every error that parsc-geo raises on purpose.

    Parameters
    ----------
    message
        What is wrong, naming the file, row or argument and what was received.
    hint
        What the user can do about it.
    """

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  Sugerencia: {self.hint}"
        return self.message


class InputDataError(ParscGeoError, ValueError):
    """An input file cannot be read or its content is unusable."""

    exit_code = EXIT_DATA


class ValidationError(InputDataError):
    """Input data fails a check; the message lists every problem found."""


class ConfigError(ParscGeoError, ValueError):
    """A parameter, column mapping or configuration file is invalid."""

    exit_code = EXIT_CONFIG


class OutputError(ParscGeoError, OSError):
    """An output cannot be written (exists without ``overwrite``, or I/O failure)."""

    exit_code = EXIT_OUTPUT


class MissingDependencyError(ParscGeoError, ImportError):
    """An optional package or program that the requested feature needs is missing."""

    exit_code = EXIT_MISSING


class CRSError(ParscGeoError, ValueError):
    """Coordinate reference systems are missing or do not match."""

    exit_code = EXIT_DATA


class InsufficientDataError(ParscGeoError, ValueError):
    """Too few incidents for a method to give a meaningful answer."""

    exit_code = EXIT_DATA
