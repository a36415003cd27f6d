"""Benchmark: the later demo stages' hot spots against the previous methods, in the same run.

Issue 18 (the region demo in seconds). Each line times the current code and a reference
measured in the same process on the same input, checks that both give the same answer, and
prints CPU seconds and their ratio (the cores are shared: CPU time is what to compare).

* ``repeticion``: the Knox test's 99 permutations on 21,000 incidents with whole days. The
  reference is the previous count (a binary search of every pair's day gap among the time
  bands, ``_band_table``); the current one looks the gap up in a table of whole days
  (``_day_table``).
* ``patrullaje`` (sheet text): wrapping the paragraphs of a sheet into lines. The reference is
  the previous word-by-word loop (one measurement of the growing line per word, widths
  cached per page); the current :meth:`Page.wrap` guesses each line's end and measures from
  there, with widths cached for the whole process.

Usage: ``.venv/bin/python benchmarks/bench_demo_stages.py [--incidents N] [--pages N]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _measure import machine_note

#: Words of the paragraphs of :func:`sheet_text`.
WORDS = (
    "robo hurto agravado vía pública mercado central paradero jirón avenida calle plaza "
    "de la del en por con sin desde hasta entre 19:00 23:00 viernes sábado domingo "
    "patrullaje preventivo motorizado comisaría sector subsector incidentes denuncias "
    "Cajamarca Baños del Inca Jaén Chota Cutervo alrededores colegio hospital terminal "
    "terrestre cuadra esquina frente puente Amazonas Apurímac Dos de Mayo Tarapacá"
)


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return (CPU seconds of this process, result)."""
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


def knox(n: int) -> None:
    """Knox permutations: whole-day look-up against the binary search per pair."""
    from parsc_geo.trends import near_repeat as nr

    rng = np.random.default_rng(18)
    # a city of 40 % clustered incidents over 300 days, like the sample's provinces together
    xy = rng.uniform(0, 20_000, (n, 2))
    dense = int(0.4 * n)
    xy[:dense] = rng.normal(5_000, 600, (dense, 2))
    days = rng.integers(18_262, 18_262 + 300, n).astype(float)
    nr.knox_bands(xy[:100, 0], xy[:100, 1], days[:100], permutations=1)  # imports, not timed
    ours, table = cpu(lambda: nr.knox_bands(xy[:, 0], xy[:, 1], days, permutations=99))
    current = nr._day_table
    nr._day_table = lambda *args, **kwargs: None
    try:
        reference, expected = cpu(lambda: nr.knox_bands(xy[:, 0], xy[:, 1], days, permutations=99))
    finally:
        nr._day_table = current
    assert table.equals(expected), "the two counts differ"
    pairs = table.attrs["parameters"]["n_pairs_listed"]
    print(
        f"Knox, 99 permutations, {n:,} incidents ({pairs:,} pairs within 500 m): "
        f"{ours:.2f} s CPU against {reference:.2f} s (previous), {reference / ours:.1f}× faster; "
        "same table"
    )


def _paragraphs(count: int) -> list[str]:
    """Sheet-like paragraphs: advice, modalidades, addresses (seeded, Spanish words)."""
    rng = np.random.default_rng(7)
    words = WORDS.split()
    return [
        " ".join(rng.choice(words, size=int(rng.integers(8, 60))).tolist()) for _ in range(count)
    ]


def _reference_wrap(page: Any, text: str, width: float, size: float) -> list[str]:
    """The previous Page.wrap: the growing line measured after every word (page's cache)."""
    from matplotlib.font_manager import FontProperties

    from parsc_geo.reports.sheet_layout import _BREAKS, WRAP_SAFETY

    cache: dict[tuple[str, float], float] = page.__dict__.setdefault("_reference_cache", {})

    def measure(s: str) -> float:
        if (s, size) not in cache:
            w, _, _ = page.renderer.get_text_width_height_descent(
                s, FontProperties(size=size), ismath=False
            )
            cache[(s, size)] = float(w) / page.fig.dpi
        return cache[(s, size)]

    width *= WRAP_SAFETY
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in (w for w in _BREAKS.split(paragraph) if w):
            trial = f"{current} {word}" if current else word
            if measure(trial) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            current = word
        lines.append(current)
    return lines


def sheet_text(pages: int) -> None:
    """Sheet paragraphs wrapped: guess-then-measure against one measurement per word."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from parsc_geo.reports import sheet_layout
    from parsc_geo.reports.sheet_layout import Page, layout_rc

    texts = _paragraphs(40)
    sizes, widths = (7.0, 8.0), (2.6, 3.9, 7.4)
    with mpl.rc_context(layout_rc()):

        def run(wrap: Callable[[Page, str, float, float], list[str]]) -> list[list[str]]:
            out = []
            for _ in range(pages):  # a new page (figure) per sheet, as the sheets are drawn
                page = Page(Figure(figsize=(8.27, 11.69)))
                out += [wrap(page, t, w, s) for t in texts for w in widths for s in sizes]
            return out

        sheet_layout._WIDTHS.clear()
        sheet_layout._PER_CHAR.clear()
        ours, lines = cpu(lambda: run(lambda p, t, w, s: p.wrap(t, w, s)))
        reference, expected = cpu(lambda: run(_reference_wrap))
    assert lines == expected, "the lines differ"
    print(
        f"Sheet text, {pages} pages × {len(texts) * len(widths) * len(sizes)} paragraphs: "
        f"{ours:.2f} s CPU against {reference:.2f} s (previous), {reference / ours:.1f}× "
        "faster; same lines"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=21_000)
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    print(machine_note())
    knox(args.incidents)
    sheet_text(args.pages)


if __name__ == "__main__":
    main()
