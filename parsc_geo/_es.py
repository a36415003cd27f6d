"""Spanish number formatting for messages shown to the user."""

from __future__ import annotations

#: Thousands separator of Spanish-style numbers: a non-breaking space (``21 108``).
THOUSANDS: str = "\u00a0"


def num(value: float, decimals: int = 0) -> str:
    """Format ``value`` for terminal messages: ``9 522``, ``3 400.5``.

    Parameters
    ----------
    value
        The number to format.
    decimals
        Digits after the decimal point.

    Returns
    -------
    str
        Groups of three digits separated by a non-breaking space; the decimal point is kept,
        as in the other Spanish messages of parsc-geo (``Listo en 12.3 s``).
    """
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", THOUSANDS)
