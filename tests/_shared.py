"""Where the project's shared reference material lives: ``shared/`` beside the repository.

CI runs on a fresh clone with a copy of ``shared/`` beside it; a developer's checkout has it at
``/work/shared``. ``PARSC_SHARED`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def _shared_path(*parts: str) -> Path:
    """Return ``shared/<parts…>`` under the first candidate folder where it exists."""
    candidates = []
    if os.environ.get("PARSC_SHARED"):
        candidates.append(Path(os.environ["PARSC_SHARED"]))
    candidates += [_ROOT.parent / "shared", Path("/work/shared")]
    for base in candidates:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return candidates[0].joinpath(*parts)


def shared_reference(name: str) -> Path:
    """Return the path of ``shared/reference/<name>`` (the first candidate that exists)."""
    return _shared_path("reference", name)


def shared_data(name: str) -> Path:
    """Return the path of ``shared/data/peru/<name>`` (the first candidate that exists)."""
    return _shared_path("data", "peru", name)
