"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with no network.

Pages are opened as ``file://`` URLs, exactly as a user opens them from a disk: they load
Leaflet from the ``lib/`` folder written beside them (or have it inlined), the same files users
get (the xstatic packages, see :mod:`parsc_geo.maps.offline`). Only ``file:`` and ``data:``
requests are allowed; every other request (tiles) is aborted and recorded. Without
/usr/bin/chromium the tests skip, unless PARSC_REQUIRE_BROWSER=1, when they fail.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("PARSC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (PARSC_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A Playwright Chromium context on a fresh user-data-dir (session-wide)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is absent (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    from parsc_geo._errors import MissingDependencyError
    from parsc_geo.maps.offline import lib_files

    try:
        lib_files(allow_npm=False)
    except MissingDependencyError as exc:
        _unavailable(f"Leaflet assets are not installed locally: {exc}")
    with tempfile.TemporaryDirectory(prefix="parsc-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 800},
        )
        yield context
        context.close()


class PageRun:
    """A page with the errors, dialogs and aborted requests it produced."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.aborted: list[str] = []


@pytest.fixture
def open_map(chromium: Any) -> Iterator[Any]:
    """Return a function opening a local HTML file with the network cut off."""
    pages: list[Any] = []

    def _open(
        path: Path, *, wait_ms: int = 600, viewport: tuple[int, int] = (1200, 800)
    ) -> PageRun:
        page = chromium.new_page()
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        pages.append(page)
        run = PageRun(page)
        page.on("pageerror", lambda exc: run.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                run.errors.append(f"console: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None
            ),
        )

        def on_dialog(dialog: Any) -> None:
            run.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:")):
                r.continue_()
                return
            run.aborted.append(url)
            r.abort()

        page.route("**/*", route)
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => window.parscGeo !== undefined")
        page.wait_for_function(
            "() => !parscGeo.incidentLayers.length || document.querySelector("
            "'.leaflet-container').getAttribute('data-parsc-ready') === '1'"
        )
        page.wait_for_timeout(wait_ms)
        return run

    yield _open
    for page in pages:
        page.close()
