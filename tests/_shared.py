"""Where the project's shared reference material lives: ``shared/`` beside the repository.

CI runs on a fresh clone with a copy of ``shared/`` beside it; a developer's checkout has it at
``/work/shared``. ``PARSC_SHARED`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def shared_reference(name: str) -> Path:
    """Return the path of ``shared/reference/<name>`` (the first candidate that exists)."""
    candidates = []
    if os.environ.get("PARSC_SHARED"):
        candidates.append(Path(os.environ["PARSC_SHARED"]))
    candidates += [_ROOT.parent / "shared", Path("/work/shared")]
    for base in candidates:
        path = base / "reference" / name
        if path.exists():
            return path
    return candidates[0] / "reference" / name


def shared_data(name: str) -> Path:
    """Return the path of ``shared/data/peru/<name>`` (the first candidate that exists)."""
    candidates = []
    if os.environ.get("PARSC_SHARED"):
        candidates.append(Path(os.environ["PARSC_SHARED"]))
    candidates += [_ROOT.parent / "shared", Path("/work/shared")]
    for base in candidates:
        path = base / "data" / "peru" / name
        if path.exists():
            return path
    return candidates[0] / "data" / "peru" / name
