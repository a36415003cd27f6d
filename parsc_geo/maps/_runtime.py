"""The small JavaScript runtime shared by every parsc-geo map (parsc-geo's own code).

The code lives in ``runtime/parsc-geo.js`` and ``runtime/parsc-geo.css`` beside this module
(package data): pages load them from ``lib/`` or inline them (see :mod:`.offline`).

Every text that may come from input data reaches the page as JSON data and is put in the DOM
with ``textContent``, never ``innerHTML``: a label such as ``<img src=x onerror=alert(1)>``
shows as text and runs nothing. Leaflet's popups and tooltips get DOM elements, not strings.
"""

from __future__ import annotations

from importlib import resources
from typing import Final


def _read(name: str) -> str:
    return resources.files(__package__).joinpath("runtime", name).read_text(encoding="utf-8")


RUNTIME_JS: Final = _read("parsc-geo.js")
RUNTIME_CSS: Final = _read("parsc-geo.css")
