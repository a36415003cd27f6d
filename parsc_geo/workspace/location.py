"""Where a workspace lives: a GeoPackage file, or a PostGIS database given by URL.

``--workspace`` (and ``workspace`` in a configuration) takes either a file name
(``cajamarca.gpkg``, the default backend) or a PostgreSQL URL
(``postgresql://analista@servidor:5432/observatorio``). :func:`parse_workspace` tells them
apart; :func:`parsc_geo.workspace.factory.open_workspace` returns the backend. A URL may name
the schema that holds the workspace with the parameter ``schema``
(``…/observatorio?schema=arequipa``; default ``parsc_geo``), so that one database can hold
the workspaces of several regions; its other parameters (``sslmode`` …) go to libpq unchanged.

A password written in the URL is kept only in :attr:`DatabaseURL.conninfo`, which is handed to
the driver and never shown: :class:`DatabaseURL` prints as its :attr:`~DatabaseURL.display`
form, with the password masked. Prefer ``~/.pgpass`` or ``PGPASSWORD`` to a password in a URL.

Nothing here imports the database driver, so parsing the command line stays instant.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from .._errors import ConfigError

#: URL schemes of a PostgreSQL database (libpq accepts both).
SCHEMES: Final = ("postgresql", "postgres")
#: Schema of a PostGIS workspace when the URL names none.
DEFAULT_SCHEMA: Final = "parsc_geo"
#: What a schema name may be: a lower-case SQL identifier, so it never needs quoting by hand.
_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: How a masked password is shown.
MASK: Final = "***"


@dataclass(frozen=True)
class DatabaseURL:
    """A PostgreSQL URL of a workspace, split into what the driver gets and what is shown.

    Attributes
    ----------
    conninfo
        The URL handed to the driver (may hold a password; never print it).
    schema
        The schema of the workspace.
    display
        The URL with its password masked and the schema parameter kept: safe to print.
    password
        The password written in the URL, if any (to scrub it from driver messages).
    """

    conninfo: str = field(repr=False)
    schema: str
    display: str
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.display

    def scrub(self, text: str) -> str:
        """Return ``text`` with the password (plain or URL-encoded) replaced by ``***``."""
        if self.password:
            for secret in {self.password, quote(self.password, safe="")}:
                text = text.replace(secret, MASK)
        return text


def is_database_url(value: object) -> bool:
    """Return whether ``value`` is a PostgreSQL URL (``postgresql://…`` or ``postgres://…``)."""
    if isinstance(value, DatabaseURL):
        return True
    if not isinstance(value, str):
        return False
    return value.split("://", 1)[0].lower() in SCHEMES and "://" in value


def parse_database_url(value: str, *, schema: str | None = None) -> DatabaseURL:
    """Split a PostgreSQL URL into the driver's URL, the schema and a printable form.

    Parameters
    ----------
    value
        ``postgresql://[user[:password]@][host][:port][/database][?schema=NAME&…]``.
    schema
        The schema, overriding the URL's ``schema`` parameter; default ``parsc_geo``.

    Raises
    ------
    ConfigError
        The URL is malformed (a port that is not a number) or the schema name is not a
        lower-case identifier. The message never contains the password.
    """
    parts = urlsplit(value)
    password = unquote(parts.password) if parts.password is not None else None
    shown = _masked(parts)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(
            f"la dirección del espacio de trabajo {shown} tiene un puerto no válido",
            hint="use postgresql://usuario@servidor:5432/base",
        ) from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    named = [v for k, v in query if k == "schema"]
    chosen = schema or (named[-1] if named else DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.fullmatch(chosen):
        raise ConfigError(
            f"nombre de esquema no válido en {shown}: {chosen!r}",
            hint="use minúsculas, cifras y '_' (p. ej. ?schema=arequipa); "
            f"sin él se usa {DEFAULT_SCHEMA!r}",
        )
    if any(k == "password" for k, _ in query):
        password = next(v for k, v in reversed(query) if k == "password")
    driver_query = urlencode([(k, v) for k, v in query if k != "schema"])
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, driver_query, ""))
    return DatabaseURL(conninfo=conninfo, schema=chosen, display=shown, password=password)


def _masked(parts: object) -> str:
    """Return the URL of ``parts`` (a urlsplit result) with its password masked."""
    from urllib.parse import SplitResult

    assert isinstance(parts, SplitResult)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
    query = "&".join(
        f"{k}={MASK}" if k == "password" else (f"{k}={v}" if v else k)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parse_workspace(value: str | os.PathLike[str] | DatabaseURL) -> Path | DatabaseURL:
    """Return a :class:`DatabaseURL` for a PostgreSQL URL, else the value as a :class:`Path`."""
    if isinstance(value, DatabaseURL):
        return value
    if isinstance(value, str) and is_database_url(value):
        return parse_database_url(value)
    return Path(value)
