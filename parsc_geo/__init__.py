"""parsc-geo: crime maps of Peru's police stations turned into hotspots, patrol plans and maps."""

import logging as _logging

from ._compat import install as _install_old_paths

__version__ = "0.1.0"

__all__ = ["__version__"]

# Module paths of parsc-geo 0.1 (``parsc_geo.store``, ``parsc_geo.patrol_windows`` …) stay
# importable: see parsc_geo._compat.
_install_old_paths()
# A library does not decide where messages go (see parsc_geo._messages).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
