"""QR codes drawn as vector shapes on matplotlib axes (printed sheets, PDF and PNG).

A QR code on a patrol sheet holds a ``geo:`` URI (:func:`parsc_geo.patrol.places.geo_uri`):
scanned with a phone's camera, it opens the critical point in the phone's map app. The symbol
is made by ``segno`` (error correction level M, 15 % of the symbol can be lost, as on a
creased sheet) and drawn as one filled path of dark modules with the standard quiet zone of
four modules, so it stays sharp at any zoom of the PDF and rasterises without seams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes

#: Light modules around the symbol (ISO/IEC 18004 asks for four).
QUIET_ZONE: Final = 4


def qr_modules(text: str) -> np.ndarray:
    """Return the modules of the QR code of ``text`` (True = dark), quiet zone included.

    Row 0 is the top of the symbol.
    """
    import numpy as np
    import segno

    symbol = segno.make_qr(text, error="m", boost_error=False)
    rows = [list(row) for row in symbol.matrix_iter(scale=1, border=QUIET_ZONE)]
    return np.asarray(rows, dtype=bool)


def draw_qr(ax: Axes, text: str) -> None:
    """Draw the QR code of ``text`` filling ``ax`` (a square axes), on a white background.

    Dark modules of a row are merged into runs and all runs form one path: adjacent modules
    share edges, so antialiased rasterisers leave no light seams between them.
    """
    import numpy as np
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    modules = qr_modules(text)
    size = modules.shape[0]
    vertices: list[tuple[float, float]] = []
    codes: list[Any] = []
    for r in range(size):
        row = np.concatenate([[False], modules[r], [False]])
        starts = np.flatnonzero(~row[:-1] & row[1:])
        ends = np.flatnonzero(row[:-1] & ~row[1:])
        top = float(size - r)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            s, e = float(start), float(end)
            vertices += [(s, top), (e, top), (e, top - 1), (s, top - 1), (s, top)]
            codes += [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    ax.set_axis_off()
    ax.set_xlim(0, size)
    ax.set_ylim(0, size)
    ax.set_aspect("equal")
    ax.add_patch(Rectangle((0, 0), size, size, facecolor="white", edgecolor="none"))
    if vertices:
        # add_artist, not add_patch: the white square already sets the data limits, and
        # add_patch would walk every one of the path's hundreds of segments to extend them
        modules_path = PathPatch(
            Path(vertices, codes), facecolor="black", edgecolor="none", linewidth=0
        )
        modules_path.set_clip_path(ax.patch)
        ax.add_artist(modules_path)
