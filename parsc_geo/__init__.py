"""parsc-geo: crime maps of Peru's police stations turned into hotspots, patrol plans and maps."""

from ._compat import install as _install_old_paths

__version__ = "0.1.0"

__all__ = ["__version__"]

# Module paths of parsc-geo 0.1 (``parsc_geo.store``, ``parsc_geo.patrol_windows`` …) stay
# importable: see parsc_geo._compat.
_install_old_paths()
