"""Candidate forecasts that rank grid cells, fitted fast and repeatedly for backtests.

Every candidate turns the incidents before a forecast origin into a score per cell of a
:class:`~parsc_geo.evaluation.cells.CellGrid`; higher scores are selected first.

``counts``
    Incidents per cell over all the history given (the naive baseline).
``counts_<w>d``
    Incidents per cell over the last ``w`` days before the origin (the "last period" baseline
    when ``w`` is the length of the forecast window).
``tiebreak_<h>``
    Counts, with cells of equal counts (cells without incidents included) ordered by their
    ``kde_<h>`` mass: the score is ``counts + share of kde_<h>``, and a share is below 1, so
    the order of different counts never changes. It is counts wherever counts decide, and the
    neighbourhood's history where they cannot.
``kde_<h>``
    Quartic kernel density with search radius ``h`` metres, integrated over each cell: the
    expected incidents per cell under the kernel estimate. Computed on a sub-grid fine enough to
    sample the kernel at least three times per radius (``cell_size / f`` with
    ``f = ⌈3·cell_size / h⌉`` between 1 and 3; linear binning and FFT convolution,
    :func:`parsc_geo._kernels.kde_grid`) and summed per cell. Few incidents on a large raster
    (a province's months) are summed directly instead, the kernel's mass per cell added from
    each binned corner (:meth:`History.direct_mass`, chosen by cost: :meth:`History.direct`);
    the two agree to round-off.
``blend_<h>_<a>``
    ``(1 − a)`` times the cell's share of counts plus ``a`` times its share of ``kde_<h>`` mass:
    counts where the history is dense, the smoothed estimate where a cell's own count is noise.
    A small ``a`` mostly orders cells of equal counts (and cells without incidents) by their
    neighbourhood's history.
``gistar``
    The Getis-Ord Gi* z-score of the counts with queen neighbours (the 8 surrounding cells and
    the cell itself), :func:`parsc_geo.hotspots.gistar.gi_star_z`.

Time-weighted ("prospective") variants, in the spirit of Bowers, Johnson & Pease (2004), are
named with a ``p`` prefix and a ``_<τ>d`` suffix (``pcounts_730d``, ``pkde_150_30d``,
``pblend_300_0.2_730d``): each incident weighs ``1 / (1 + Δ/τ)`` with Δ its age in days at the
origin, so that recent incidents count more (τ = 7 d makes continuous their one-week time
bands; longer τ let old but persistent hot spots keep weight).

On Toronto's major-crime data pure KDE never beat counts: its capture at 1 % of the area fell
from 93 % of counts' at a 50 m radius to 86 % at 100 m, 75 % at 150 m and 41 % at the automatic
(Silverman) radius of about 1 km (see :mod:`parsc_geo.bandwidth`); blends and tie-broken counts
gained 0.2–1 % on it, more on sparse categories.

Each candidate has a *complexity* (0 counts, 1 tie-broken counts, 2 blends, 3 KDE, 5 Gi*,
plus 1 when time-weighted) that the automatic choice
(:mod:`parsc_geo.evaluation.selection`) uses to prefer the simpler of near-equal candidates.

References
----------
Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the future of crime
mapping? *British Journal of Criminology* 44(5), 641–658.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._text import num

if TYPE_CHECKING:
    import scipy.sparse as sp

    from .cells import CellGrid

#: Most sub-cells per cell side on which kernel densities are computed before summing per cell.
KDE_SUBDIVISION = 3


def subdivision(cell_size: float, bandwidth: float) -> int:
    """Return the sub-cells per cell side for a KDE: ``⌈3·cell_size / h⌉`` within [1, 3].

    Examples
    --------
    >>> subdivision(100, 100), subdivision(100, 150), subdivision(100, 800)
    (3, 2, 1)
    """
    return int(min(KDE_SUBDIVISION, max(1, math.ceil(3.0 * cell_size / bandwidth - 1e-9))))


#: The queen neighbours of a cell: (rows south, columns east).
_QUEEN = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0))
#: Terms summed at a time by the direct KDE (its temporaries stay near 64 MB).
_DIRECT_TERMS = 1 << 22
#: Kernels of radius up to this (m) share one binned raster per fold (its padding).
SHARED_PAD_M = 800.0
#: Kernel of the KDE candidates (search-radius convention, as ArcGIS and CrimeStat).
KERNEL = "quartic"
#: Search radii (m) of the fixed-bandwidth KDE candidates.
KDE_BANDWIDTHS: tuple[float, ...] = (100.0, 150.0, 200.0, 300.0, 500.0, 800.0)
#: (search radius m, τ days) of the time-weighted KDE candidates.
PKDE_PARAMETERS: tuple[tuple[float, float], ...] = ((150.0, 30.0), (150.0, 180.0), (300.0, 180.0))
#: Search radii (m) of the counts + KDE blends.
BLEND_BANDWIDTHS: tuple[float, ...] = (150.0, 300.0, 800.0)
#: Weights of the KDE share in the blends.
BLEND_WEIGHTS: tuple[float, ...] = (0.05, 0.2, 0.5)
#: τ (days) of the time-weighted counts and blends.
SLOW_DECAYS: tuple[float, ...] = (365.0, 1460.0)
#: Search radius (m) of the KDE that orders cells of equal counts in ``tiebreak``.
TIEBREAK_BANDWIDTH = 800.0
KINDS: tuple[str, ...] = ("counts", "tiebreak", "kde", "blend", "gistar")
_COMPLEXITY = {"counts": 0, "tiebreak": 1, "blend": 2, "kde": 3, "gistar": 5}


@dataclass(frozen=True)
class Candidate:
    """One forecast rule.

    Attributes
    ----------
    kind
        ``counts``, ``tiebreak``, ``kde``, ``blend`` or ``gistar``.
    bandwidth
        Quartic search radius in metres (tiebreak, kde, blend).
    weight
        Weight of the KDE share (blend), in (0, 1).
    decay_days
        τ of the time weight ``1 / (1 + Δ/τ)``; None weighs every incident 1.
    window_days
        Only incidents of the last ``window_days`` before the origin (counts); None: all.
    """

    kind: str
    bandwidth: float | None = None
    weight: float | None = None
    decay_days: float | None = None
    window_days: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"tipo de candidato desconocido: {self.kind!r}")
        if self.kind in ("tiebreak", "kde", "blend") and not (self.bandwidth or 0) > 0:
            raise ConfigError(f"el candidato {self.kind} necesita un ancho de banda positivo")
        if self.kind == "blend" and not 0 < (self.weight or 0) < 1:
            raise ConfigError("el peso de la mezcla debe estar entre 0 y 1")
        if self.decay_days is not None and not self.decay_days > 0:
            raise ConfigError("τ debe ser un número positivo de días")
        if self.window_days is not None and not self.window_days > 0:
            raise ConfigError("la ventana debe ser un número positivo de días")
        if self.kind in ("gistar", "tiebreak") and (self.decay_days or self.window_days):
            raise ConfigError(f"{self.kind} no admite ponderación temporal ni ventana")

    @property
    def name(self) -> str:
        """Identifier, e.g. ``kde_150``, ``blend_300_0.2`` or ``pkde_150_30d``."""
        if self.kind == "gistar":
            return "gistar"
        prefix = "p" if self.decay_days is not None else ""
        parts = [prefix + self.kind]
        if self.bandwidth is not None:
            parts.append(f"{self.bandwidth:g}")
        if self.weight is not None:
            parts.append(f"{self.weight:g}")
        if self.decay_days is not None:
            parts.append(f"{self.decay_days:g}d")
        if self.window_days is not None:
            parts.append(f"{self.window_days:g}d")
        return "_".join(parts)

    @property
    def complexity(self) -> int:
        """Rank of simplicity: lower is simpler."""
        return _COMPLEXITY[self.kind] + (1 if self.decay_days is not None else 0)

    def label_es(self) -> str:
        """Spanish description for messages and reports."""
        if self.kind == "gistar":
            return "Gi* (puntuación z de los conteos)"
        if self.kind == "counts":
            text = "conteos por celda"
            if self.window_days is not None:
                text += f" de los últimos {num(self.window_days)} días"
        elif self.kind == "tiebreak":
            text = f"conteos por celda, empates ordenados por KDE de {num(self.bandwidth or 0)} m"
        elif self.kind == "kde":
            text = f"KDE cuártico de {num(self.bandwidth or 0)} m"
        else:
            share = num(100 * (self.weight or 0))
            text = f"conteos con {share} % de KDE de {num(self.bandwidth or 0)} m"
        if self.decay_days is not None:
            text += f", ponderado en el tiempo (τ = {num(self.decay_days)} días)"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Return the candidate's parameters for JSON."""
        return {
            "name": self.name,
            "kind": self.kind,
            "bandwidth_m": self.bandwidth,
            "weight": self.weight,
            "decay_days": self.decay_days,
            "window_days": self.window_days,
            "label": self.label_es(),
        }


def default_candidates() -> tuple[Candidate, ...]:
    """Return the candidates that the automatic choice backtests.

    Counts; counts with ties broken by a :data:`TIEBREAK_BANDWIDTH` KDE; blends of counts and
    KDE over :data:`BLEND_BANDWIDTHS` × :data:`BLEND_WEIGHTS`;
    time-weighted counts and blends (τ in :data:`SLOW_DECAYS`, the blends at 800 m); KDE over
    :data:`KDE_BANDWIDTHS`; time-weighted KDE over :data:`PKDE_PARAMETERS`; Gi*.
    """
    out = [Candidate("counts"), Candidate("tiebreak", bandwidth=TIEBREAK_BANDWIDTH)]
    out += [Candidate("counts", decay_days=d) for d in SLOW_DECAYS]
    out += [
        Candidate("blend", bandwidth=h, weight=a) for h in BLEND_BANDWIDTHS for a in BLEND_WEIGHTS
    ]
    out += [
        Candidate("blend", bandwidth=800.0, weight=a, decay_days=d)
        for d in SLOW_DECAYS
        for a in BLEND_WEIGHTS
    ]
    out += [Candidate("kde", bandwidth=h) for h in KDE_BANDWIDTHS]
    out += [Candidate("kde", bandwidth=h, decay_days=d) for h, d in PKDE_PARAMETERS]
    out.append(Candidate("gistar"))
    return tuple(out)


def parse_candidate(name: str) -> Candidate:
    """Return the candidate named ``name`` (``counts``, ``counts_30d``, ``kde_150``, …).

    Raises
    ------
    ConfigError
        When the name does not describe a candidate.

    Examples
    --------
    >>> parse_candidate("blend_300_0.2").label_es()
    'conteos con 20 % de KDE de 300 m'
    >>> parse_candidate("pkde_150_30d").name
    'pkde_150_30d'
    """
    parts = name.strip().lower().split("_")
    head, rest = parts[0], parts[1:]
    decay = head.startswith("p") and head[1:] in KINDS
    kind = head[1:] if decay else head
    try:
        days = None
        if rest and rest[-1].endswith("d"):
            days = float(rest[-1][:-1])
            rest = rest[:-1]
        if decay and days is None:
            raise ValueError(name)
        numbers = [float(r) for r in rest]
        if kind == "gistar" and not rest and days is None and not decay:
            return Candidate("gistar")
        if kind == "counts" and not numbers:
            if decay:
                return Candidate("counts", decay_days=days)
            return Candidate("counts", window_days=days)
        if kind == "tiebreak" and len(numbers) == 1 and days is None:
            return Candidate("tiebreak", bandwidth=numbers[0])
        if kind == "kde" and len(numbers) == 1:
            return Candidate("kde", bandwidth=numbers[0], decay_days=days if decay else None)
        if kind == "blend" and len(numbers) == 2 and (decay or days is None):
            return Candidate("blend", bandwidth=numbers[0], weight=numbers[1], decay_days=days)
    except (ValueError, ConfigError):
        pass
    raise ConfigError(
        f"candidato desconocido: {name!r}",
        hint="use counts, counts_<días>d, pcounts_<τ>d, tiebreak_<m>, kde_<m>, pkde_<m>_<τ>d, "
        "blend_<m>_<peso>, pblend_<m>_<peso>_<τ>d o gistar",
    )


def _fft_threads() -> int:
    """Return the threads of the FFTs: every core, but one in a pool's worker process.

    A pool's workers already keep the cores busy; each transform's lines are computed alike
    whatever the threads, so the numbers do not depend on it.
    """
    import multiprocessing

    return 1 if multiprocessing.parent_process() is not None else -1


def sparse_rfft2(values: np.ndarray) -> np.ndarray:
    """Return ``scipy.fft.rfft2(values)``, the rows without any value left out of its first pass.

    ``rfft2`` transforms every row, then every column of the result; a row of zeros transforms
    to zeros. Binned incidents leave most rows of a province's raster empty: only the others
    are transformed (``tests/test_evaluation_fast_paths.py`` checks the very same numbers).
    """
    from scipy import fft

    threads = _fft_threads()
    filled = np.flatnonzero(values.any(axis=1))
    if filled.size > values.shape[0] // 2:
        return np.asarray(fft.rfft2(values, workers=threads))  # dense: nothing to leave out
    half = np.zeros((values.shape[0], values.shape[1] // 2 + 1), dtype=complex)
    if filled.size:
        half[filled] = fft.rfft(values[filled], axis=1, workers=threads)
    return np.asarray(fft.fft(half, axis=0, workers=threads, overwrite_x=True))


def sparse_linear_binning(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    x0: float,
    ytop: float,
    cell_size: float,
    shape: tuple[int, int],
) -> np.ndarray:
    """Return :func:`parsc_geo._kernels.linear_binning` of the points, summed cell by cell.

    The same numbers (the shares of each point, added in the same order per cell), with the
    sums made over the cells the points reach only: a backtest bins a few hundred incidents
    on rasters of millions of cells, many times.
    """
    from .._kernels import BINNING_CHUNK, linear_binning

    if len(x) > BINNING_CHUNK or 4 * len(x) > (shape[0] + 2) * (shape[1] + 2) // 8:
        # many points for the raster (a city's history): the dense sums cost less than
        # sorting the cells; beyond a chunk they are summed chunk by chunk there
        return linear_binning(x, y, weights, x0=x0, ytop=ytop, cell_size=cell_size, shape=shape)
    rows, cols = shape
    stride = cols + 2
    fx = (x - x0) / cell_size - 0.5
    fy = (ytop - y) / cell_size - 0.5
    ix = np.floor(fx)
    iy = np.floor(fy)
    inside = (ix >= -1) & (ix < cols) & (iy >= -1) & (iy < rows)
    if not inside.all():
        fx, fy, ix, iy, weights = fx[inside], fy[inside], ix[inside], iy[inside], weights[inside]
    tx, ty = fx - ix, fy - iy
    base = (iy.astype(np.intp) + 1) * stride + (ix.astype(np.intp) + 1)
    wy0 = weights * (1.0 - ty)
    wy1 = weights * ty
    corners = (base, base + 1, base + stride, base + stride + 1)
    shares = (wy0 * (1.0 - tx), wy0 * tx, wy1 * (1.0 - tx), wy1 * tx)
    cells, where = np.unique(np.concatenate(corners), return_inverse=True)
    m = len(base)
    total = np.zeros(len(cells))
    for k, share in enumerate(shares):
        total += np.bincount(where[k * m : (k + 1) * m], share, minlength=len(cells))
    binned = np.zeros((rows + 2) * stride)
    binned[cells] = total
    return binned.reshape(rows + 2, stride)[1:-1, 1:-1]


@functools.lru_cache(maxsize=64)
def cell_kernels(bandwidth: float, sub: float, f: int) -> tuple[np.ndarray, int]:
    """Return the quartic kernel summed over the cells it reaches, per sub-cell of its centre.

    Item ``[p, q, a, b]`` is the mass that a unit at sub-cell ``(p, q)`` of its cell (``f × f``
    sub-cells of side ``sub``) puts into the cell ``a + lo`` rows and ``b + lo`` columns away
    (``lo``, the second value, is the first offset): the discrete kernel summed over that
    cell's sub-cells. Read-only (shared between histories).
    """
    from .._kernels import discrete_kernel, get_kernel

    kern = discrete_kernel(get_kernel(KERNEL), bandwidth, sub)
    half = kern.shape[0] // 2
    # a sub-row offset d = k − half reaches the cell a + lo when a·f + i − p = d for some
    # sub-row i of that cell: the 0/1 matrix of that relation, per phase p
    lo = -((half + f - 1) // f)
    n = 2 * ((half + f - 1) // f) + 1
    reach = np.zeros((f, n, kern.shape[0]))
    for p in range(f):
        for a in range(n):
            for i in range(f):
                k = (a + lo) * f + i - p + half
                if 0 <= k < kern.shape[0]:
                    reach[p, a, k] = 1.0
    per_row = reach @ kern  # (p, a, l): the kernel's rows summed per reached cell row
    out = np.matmul(per_row[:, None], reach[None].transpose(0, 1, 3, 2))
    out.flags.writeable = False
    return out, lo


class History:
    """Incidents located once on a grid, for fitting candidates at many origins.

    Parameters
    ----------
    grid
        The evaluation grid.
    x, y
        Metric coordinates of the incidents.
    t
        Occurrence times in days (any origin, e.g. days since 1970); incidents with NaN times
        are never used.
    """

    def __init__(self, grid: CellGrid, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        self.grid = grid
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.t = np.asarray(t, dtype=float)
        self.cell = grid.locate(self.x, self.y)
        self._weights: sp.csr_matrix | None = None
        self._kernels: dict[float, np.ndarray] = {}
        self._gi: _GiStarTerms | None = None
        self._positions: dict[tuple[Any, ...], list[list[np.ndarray]]] = {}
        self._box: dict[tuple[int, int], np.ndarray] = {}
        self._last_fit: Fit | None = None

    def layout(self, bandwidth: float) -> tuple[int, float, int, tuple[int, int]]:
        """Return sub-cells per cell, sub-cell size, padding (sub-cells) and padded shape.

        The padding reaches beyond the kernel (at least :data:`SHARED_PAD_M`), so that kernels
        up to that radius share one binned raster.
        """
        from scipy.fft import next_fast_len

        g = self.grid
        f = subdivision(g.cell_size, bandwidth)
        sub = g.cell_size / f
        pad = math.ceil(max(bandwidth, SHARED_PAD_M) / sub - 1e-9) + 1
        # Extra rows and columns at the south and east make the FFT lengths fast ones.
        rows = next_fast_len(g.n_rows * f + 2 * pad, real=True)
        cols = next_fast_len(g.n_cols * f + 2 * pad, real=True)
        return f, sub, pad, (rows, cols)

    def spectrum(
        self, mask: np.ndarray, weights: np.ndarray | None, bandwidth: float
    ) -> tuple[tuple[int, int, int], np.ndarray]:
        """Return the layout key and the Fourier transform of the binned incidents of ``mask``.

        Kernels whose layout (sub-division and padding) is the same share it: pass the key to
        :meth:`mass`.
        """
        g = self.grid
        f, sub, pad, shape = self.layout(bandwidth)
        w = np.ones(int(mask.sum())) if weights is None else np.asarray(weights, dtype=float)
        binned = sparse_linear_binning(
            self.x[mask],
            self.y[mask],
            w,
            x0=g.x0 - pad * sub,
            ytop=g.ytop + pad * sub,
            cell_size=sub,
            shape=shape,
        )
        return (f, pad, shape[0] * 100_000 + shape[1]), sparse_rfft2(binned)

    def _kernel_spectrum(self, bandwidth: float) -> np.ndarray:
        key = float(bandwidth)
        if key not in self._kernels:
            from scipy import fft

            from .._kernels import discrete_kernel, get_kernel

            _, sub, _, shape = self.layout(bandwidth)
            kern = discrete_kernel(get_kernel(KERNEL), key, sub)
            half = kern.shape[0] // 2
            # Circular convolution on the padded raster: the kernel's centre goes to (0, 0);
            # the padding exceeds the kernel's reach, so nothing wraps into the grid.
            placed = np.zeros(shape)
            placed[: half + 1, : half + 1] = kern[half:, half:]
            placed[: half + 1, shape[1] - half :] = kern[half:, :half]
            placed[shape[0] - half :, : half + 1] = kern[:half, half:]
            placed[shape[0] - half :, shape[1] - half :] = kern[:half, :half]
            self._kernels[key] = fft.rfft2(placed, workers=_fft_threads())
        return self._kernels[key]

    def mass(self, spectrum: np.ndarray, bandwidth: float) -> np.ndarray:
        """Return the quartic KDE mass per cell from a :meth:`spectrum` of the same layout."""
        from scipy import fft

        from .._kernels import ROUNDOFF_CUTOFF

        g = self.grid
        f, _, pad, shape = self.layout(bandwidth)
        smooth = fft.irfft2(
            spectrum * self._kernel_spectrum(bandwidth), s=shape, workers=_fft_threads()
        )
        inner = smooth[pad : pad + g.n_rows * f, pad : pad + g.n_cols * f]
        peak = float(inner.max()) if inner.size else 0.0
        cut = ROUNDOFF_CUTOFF * peak
        values = smooth.ravel()
        # Each cell sums its f × f sub-cells as numpy sums the reshaped raster over its axes
        # (3, then 1): along each sub-row first, then the sub-rows; only the grid's cells.
        rows = []
        for sub_row in self._sub_cells(f, pad, shape):
            # FFT round-off leaves about 1e-16 of the peak where the mass is zero; zero it, so
            # that empty cells tie instead of being ordered by noise.
            parts = []
            for at in sub_row:
                v = values[at]
                parts.append(np.where(v < cut, 0.0, v))
            row = parts[0]
            for part in parts[1:]:
                row = row + part
            rows.append(row)
        mass = rows[0]
        for row in rows[1:]:
            mass = mass + row
        return np.asarray(mass)

    def _sub_cells(self, f: int, pad: int, shape: tuple[int, int]) -> list[list[np.ndarray]]:
        """Return the positions on the padded raster of every cell's sub-cells, by (i, j).

        Item ``[i][j]`` holds the flat position of sub-cell ``(i, j)`` of each grid cell
        (cached per layout).
        """
        key = (f, pad, shape)
        if key not in self._positions:
            g = self.grid
            rr, cc = g.box_rows_cols
            top = (pad + rr * f) * shape[1] + pad + cc * f
            self._positions[key] = [[top + i * shape[1] + j for j in range(f)] for i in range(f)]
        return self._positions[key]

    def kde_mass(
        self, mask: np.ndarray, bandwidth: float, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the quartic KDE mass per cell (in incidents) of the incidents in ``mask``.

        ``weights`` (one per incident of ``mask``) weigh the incidents; None counts each once.
        Mass that the kernels spread beyond the grid's bounding box is lost (edge effect).
        """
        if not mask.any():
            return np.zeros(self.grid.n_cells)
        if self.direct(int(mask.sum()), bandwidth):
            return self.direct_mass(mask, weights, bandwidth)
        _, spec = self.spectrum(mask, weights, bandwidth)
        return self.mass(spec, bandwidth)

    def direct(self, n_points: int, bandwidth: float) -> bool:
        """Return whether :meth:`direct_mass` costs less than the FFT for ``n_points``.

        The FFTs cost a few passes over the padded raster whatever the incidents; the direct
        sums cost one term per binned corner (four per incident) and cell the kernel reaches.
        A province's month of history is a few hundred incidents on a raster of millions of
        sub-cells; a city's years fill the raster.
        """
        _, _, _, shape = self.layout(bandwidth)
        reach = self._cell_kernels(bandwidth)[0].shape[-1]
        return 4 * n_points * reach * reach <= shape[0] * shape[1]

    def _cell_kernels(self, bandwidth: float) -> tuple[np.ndarray, int]:
        """Return :func:`cell_kernels` for this grid's layout of ``bandwidth``."""
        f, sub, _, _ = self.layout(bandwidth)
        return cell_kernels(float(bandwidth), sub, f)

    def direct_mass(
        self, mask: np.ndarray, weights: np.ndarray | None, bandwidth: float
    ) -> np.ndarray:
        """Return the quartic KDE mass per cell of the incidents of ``mask``, summed directly.

        The same quantity as :meth:`mass` (linear binning on the sub-cells, the discrete
        kernel, the sub-cells summed per cell, mass beyond the grid's box lost, values below
        :data:`~parsc_geo._kernels.ROUNDOFF_CUTOFF` of the peak set to zero), without the
        raster: each binned corner adds the kernel's mass per cell (:meth:`_cell_kernels`) to
        the cells it reaches. Equal to the FFT's numbers up to their round-off.
        """
        from .._kernels import ROUNDOFF_CUTOFF

        g = self.grid
        f, sub, _, _ = self.layout(bandwidth)
        kernels, lo = self._cell_kernels(bandwidth)
        n = kernels.shape[-1]
        w = np.ones(int(mask.sum())) if weights is None else np.asarray(weights, dtype=float)
        # linear binning as sparse_linear_binning's, on sub-cells counted from the grid's corner
        fx = (self.x[mask] - g.x0) / sub - 0.5
        fy = (g.ytop - self.y[mask]) / sub - 0.5
        ix, iy = np.floor(fx), np.floor(fy)
        tx, ty = fx - ix, fy - iy
        col = ix.astype(np.intp)
        row = iy.astype(np.intp)
        rows = np.concatenate([row, row, row + 1, row + 1])
        cols = np.concatenate([col, col + 1, col, col + 1])
        wy0, wy1 = w * (1.0 - ty), w * ty
        shares = np.concatenate([wy0 * (1.0 - tx), wy0 * tx, wy1 * (1.0 - tx), wy1 * tx])
        cell_row, p = np.divmod(rows, f)
        cell_col, q = np.divmod(cols, f)
        # corners whose kernel reaches the grid's box; the cells they reach then lie within
        # a margin of twice the reach around it
        margin = n - 1 + lo if n - 1 + lo > -lo else -lo
        keep = (
            (cell_row >= -margin)
            & (cell_row < g.n_rows + margin)
            & (cell_col >= -margin)
            & (cell_col < g.n_cols + margin)
            & (shares != 0.0)
        )
        width = g.n_cols + 4 * margin
        size = (g.n_rows + 4 * margin) * width
        first = (cell_row[keep] + 2 * margin + lo) * width + cell_col[keep] + 2 * margin + lo
        phase = p[keep] * f + q[keep]
        shares = shares[keep]
        offsets = (np.arange(n)[:, None] * width + np.arange(n)[None, :]).ravel()
        per_phase = kernels.reshape(f * f, n * n)
        # cells the kernel never reaches from any sub-cell (the square's corners beyond the
        # radius) would add zeros to the sums: left out, the sums are the same
        reaches = np.flatnonzero((per_phase != 0.0).any(axis=0))
        offsets = offsets[reaches]
        per_phase = np.ascontiguousarray(per_phase[:, reaches])
        total: np.ndarray | None = None
        # corners per chunk as for the whole square (chunks' sums are added: the same chunks)
        step = max(1, _DIRECT_TERMS // (n * n))
        for at in range(0, len(first), step):
            end = at + step
            cells = (first[at:end, None] + offsets[None, :]).ravel()
            if f == 1:
                # one phase: the kernel row broadcast, not gathered per corner
                values = shares[at:end, None] * per_phase[0]
            else:
                values = per_phase[phase[at:end]]
                values *= shares[at:end, None]
            summed = np.bincount(cells, values.ravel(), minlength=size)
            # the first chunk's sums are the total (0 + x is x: bincount never sums to −0)
            total = summed if total is None else np.add(total, summed, out=total)
        if total is None:
            total = np.zeros(size)
        # the grid's cells, in its order (those not reached are exactly zero)
        mass = total[self._box_positions(margin, width)]
        if mass.size:
            mass[mass < ROUNDOFF_CUTOFF * float(mass.max())] = 0.0
        return np.asarray(mass)

    def _box_positions(self, margin: int, width: int) -> np.ndarray:
        """Return the flat position of every grid cell in its box grown by ``2·margin`` cells.

        The box of :meth:`direct_mass`'s sums, ``width`` cells wide (cached per layout).
        """
        key = (margin, width)
        if key not in self._box:
            rr, cc = self.grid.box_rows_cols
            self._box[key] = (rr + 2 * margin) * width + cc + 2 * margin
        return self._box[key]

    def queen_weights(self) -> sp.csr_matrix:
        """Return binary queen-contiguity weights between the grid's cells (cached)."""
        if self._weights is None:
            import scipy.sparse as sp

            g = self.grid
            rr, cc = g.box_rows_cols
            lookup = np.full(g.n_rows * g.n_cols, -1, dtype=np.int64)
            lookup[g.flat] = np.arange(g.n_cells)
            # The neighbours in this order (north row, own row, south row; west to east) have
            # increasing cell numbers: each row of the matrix is built sorted, as CSR keeps it.
            neighbours = np.full((g.n_cells, 8), -1, dtype=np.int64)
            k = 0
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if dr == dc == 0:
                        continue
                    r, c = rr + dr, cc + dc
                    ok = (r >= 0) & (r < g.n_rows) & (c >= 0) & (c < g.n_cols)
                    neighbours[ok, k] = lookup[r[ok] * g.n_cols + c[ok]]
                    k += 1
            found = neighbours >= 0
            indices = neighbours[found]
            indptr = np.concatenate([[0], np.cumsum(found.sum(axis=1))])
            self._weights = sp.csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(g.n_cells, g.n_cells)
            )
        return self._weights

    def gi_star(self, y: np.ndarray) -> np.ndarray:
        """Return the Gi* z-scores of ``y`` with :meth:`queen_weights` (NaN: no variance).

        The same numbers as :func:`parsc_geo.hotspots.gistar.gi_star_z` (the same operations in
        the same order), with what depends on the weights alone computed once per grid and the
        spatial lag summed over the cells where ``y`` is not zero (the other terms add zeros).
        """
        if self._gi is None:
            self._gi = _GiStarTerms(self.grid)
        return self._gi.z(y)

    def fold(self, origin: float, start: float = -np.inf) -> Fit:
        """Return the fits from the incidents in ``[start, origin)`` (none from ``origin`` on)."""
        return Fit(self, origin, start)

    def fit(self, candidate: Candidate, origin: float, start: float = -np.inf) -> np.ndarray:
        """Return the candidate's score per cell from the incidents in ``[start, origin)``.

        Methods scored one after another at the same origin share one :class:`Fit` (its
        counts and kernel spectra): the last one is kept.
        """
        last = self._last_fit
        if last is None or last.origin != float(origin) or last.start != float(start):
            last = self._last_fit = self.fold(origin, start)
        return last.score(candidate)


class Fit:
    """Scores of candidates from one training window, sharing counts and kernel densities."""

    def __init__(self, history: History, origin: float, start: float) -> None:
        self.history = history
        self.origin = float(origin)
        self.start = float(start)
        t = history.t
        self.mask = (t >= start) & (t < origin)
        self.n = int(self.mask.sum())
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}
        self._spectra: dict[tuple[Any, ...], np.ndarray] = {}

    def _weights(self, decay_days: float | None) -> np.ndarray | None:
        if decay_days is None:
            return None
        age = self.origin - self.history.t[self.mask]
        return np.asarray(1.0 / (1.0 + age / decay_days))

    def counts(
        self, window_days: float | None = None, decay_days: float | None = None
    ) -> np.ndarray:
        """Return (time-weighted) incidents per cell, of the last ``window_days`` when given."""
        key = ("counts", window_days, decay_days)
        if key not in self._cache:
            h = self.history
            weights = self._weights(decay_days)
            cell = h.cell[self.mask]
            if window_days is not None:
                recent = h.t[self.mask] >= self.origin - window_days
                cell = cell[recent]
                weights = None if weights is None else weights[recent]
            self._cache[key] = h.grid.counts(cell, weights)
        return self._cache[key]

    def kde(self, bandwidth: float, decay_days: float | None = None) -> np.ndarray:
        """Return the (time-weighted) quartic KDE mass per cell."""
        key = ("kde", bandwidth, decay_days)
        if key not in self._cache:
            h = self.history
            if self.n == 0:
                self._cache[key] = np.zeros(h.grid.n_cells)
                return self._cache[key]
            if h.direct(self.n, bandwidth):
                self._cache[key] = h.direct_mass(self.mask, self._weights(decay_days), bandwidth)
                return self._cache[key]
            f, _, pad, _ = h.layout(bandwidth)
            spec_key = ("spectrum", f, pad, decay_days)
            if spec_key not in self._spectra:
                self._spectra[spec_key] = h.spectrum(
                    self.mask, self._weights(decay_days), bandwidth
                )[1]
            self._cache[key] = h.mass(self._spectra[spec_key], bandwidth)
        return self._cache[key]

    def score(self, candidate: Candidate) -> np.ndarray:
        """Return the candidate's score per cell."""
        kind = candidate.kind
        tau = candidate.decay_days
        if kind == "counts":
            return self.counts(candidate.window_days, tau)
        if kind == "tiebreak":
            return self.counts() + _share(self.kde(float(candidate.bandwidth or 0)))
        if kind == "kde":
            return self.kde(float(candidate.bandwidth or 0), tau)
        if kind == "blend":
            a = float(candidate.weight or 0)
            counts = _share(self.counts(None, tau))
            mass = _share(self.kde(float(candidate.bandwidth or 0), tau))
            return np.asarray((1.0 - a) * counts + a * mass)
        z = self.history.gi_star(self.counts())
        return np.where(np.isfinite(z), z, -np.inf)


def _share(values: np.ndarray) -> np.ndarray:
    total = float(values.sum())
    return values / total if total > 0 else values


class _GiStarTerms:
    """What :func:`~parsc_geo.hotspots.gistar.gi_star_z` derives from queen weights alone.

    The weights are never stored: a cell's neighbours are found on the grid when its value is
    not zero, and each cell's lag adds them in the order ``gi_star_z``'s sparse product does
    (by neighbour number: the rows of the weights are sorted), so the numbers are the same.
    """

    def __init__(self, grid: CellGrid) -> None:
        n = grid.n_cells
        self.grid = grid
        self.n = n
        # binary weights, no self-weight stored: Σ w and Σ w² are the neighbour counts, the
        # grid's cells among the 8 around each (on the box raster with a border of none)
        rows, cols = grid.n_rows, grid.n_cols
        cells = np.zeros(rows * cols, dtype=np.uint8)
        cells[grid.flat] = 1
        inside = np.pad(cells.reshape(rows, cols), 1)
        around = np.zeros((rows, cols), dtype=np.uint8)
        for dr, dc in _QUEEN:
            around += inside[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
        found = around.reshape(-1)[grid.flat]
        self.wi, self.root = self._terms(found)
        self.count_index = found.astype(np.intp)
        # the same terms per neighbour count (0 to 8): those of the cells without values
        # around them
        self.class_wi, self.class_root = self._terms(np.arange(9, dtype=np.uint8))

    def _terms(self, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``wi`` and the square root of the variance term for neighbour counts."""
        n = self.n
        counted = found.astype(float)
        wi = counted + 1.0
        s1i = counted + 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.sqrt((n * s1i - wi * wi) / (n - 1))
        return wi, root

    def z(self, y: np.ndarray) -> np.ndarray:
        """Return the Gi* z-scores of ``y`` (one value per cell)."""
        y = np.asarray(y, dtype=float).ravel()
        n = self.n
        cells = np.flatnonzero(y != 0.0)
        # (cell, neighbour) pairs of the nonzero neighbours, in the sparse product's order
        targets = np.concatenate([self.grid.neighbour(cells, dr, dc) for dr, dc in _QUEEN])
        sources = np.tile(cells, len(_QUEEN))
        ok = targets >= 0
        # one sort of (cell, neighbour) keys: by cell, then by neighbour
        pairs = np.sort(targets[ok] * n + sources[ok])
        targets, sources = np.divmod(pairs, n)
        values = y[cells]
        if _whole_numbers(values):
            return self._z_of_counts(y, cells, targets, sources)
        lag = np.bincount(targets, weights=y[sources], minlength=n) + y
        mean = y.mean()
        s = math.sqrt(max(float((y * y).mean() - mean * mean), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            denominator = s * self.root
            z = (lag - mean * self.wi) / denominator
        z[~np.isfinite(z)] = np.nan
        return np.asarray(z)

    def _z_of_counts(
        self, y: np.ndarray, cells: np.ndarray, targets: np.ndarray, sources: np.ndarray
    ) -> np.ndarray:
        """Return :meth:`z` of whole numbers ``y`` (nonzero at ``cells``), computed where it varies.

        The same operations as the general path on the same numbers: the sums of whole
        numbers (below 2⁵³) are exact in any order, so the mean and the mean square come from
        the nonzero values; the lag is summed as ``np.bincount`` sums it (each cell's
        neighbours in order), over the cells it reaches only; every other cell has a lag of
        exactly 0 and its z-score is that of its neighbour count.
        """
        n = self.n
        values = y[cells]
        mean = np.float64(float(values.sum()) / n)
        mean_square = np.float64(float((values * values).sum()) / n)
        s = math.sqrt(max(float(mean_square - mean * mean), 0.0))
        # the cells whose lag is not zero: neighbours of a value, and the values' own cells
        # (the targets are sorted: each one's neighbours are consecutive)
        first = np.ones(targets.size, dtype=bool)
        first[1:] = targets[1:] != targets[:-1]
        reached = targets[first]
        sums = np.bincount(np.cumsum(first) - 1, weights=y[sources], minlength=reached.size)
        # values without values around them: a lag of their own value only
        where = np.searchsorted(reached, cells)
        among = where < reached.size
        among[among] = reached[where[among]] == cells[among]
        lagged = np.insert(reached, where[~among], cells[~among])
        lag = np.insert(sums, where[~among], 0.0) + y[lagged]
        with np.errstate(divide="ignore", invalid="ignore"):
            by_count = (0.0 - mean * self.class_wi) / (s * self.class_root)
            at_lagged = (lag - mean * self.wi[lagged]) / (s * self.root[lagged])
        by_count[~np.isfinite(by_count)] = np.nan
        at_lagged[~np.isfinite(at_lagged)] = np.nan
        z = by_count[self.count_index]
        z[lagged] = at_lagged
        return np.asarray(z)


def _whole_numbers(values: np.ndarray) -> bool:
    """Return whether ``values`` are whole numbers whose squares sum exactly (below 2⁵³)."""
    return bool(np.all(values == np.floor(values))) and float((values * values).sum()) < 2.0**53
