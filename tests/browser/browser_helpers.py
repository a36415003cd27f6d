"""Helpers of the browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Screenshots of the maps under test (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def save_screenshot(run: Any, name: str) -> Path:
    """Save a screenshot of the page under test-artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    run.page.screenshot(path=str(out))
    return out
