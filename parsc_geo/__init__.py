"""parsc-geo: crime maps of Peru's police stations turned into hotspots, patrol plans and maps."""

from ._compat import install as _install_old_paths
from ._memory import fix_mmap_threshold as _fix_mmap_threshold
from ._memory import prefer_system_pool as _prefer_system_pool
from ._messages import install_default as _show_announcements

__version__ = "0.1.0"

__all__ = ["__version__"]

# Module paths of parsc-geo 0.1 (``parsc_geo.store``, ``parsc_geo.patrol_windows`` …) stay
# importable: see parsc_geo._compat.
_install_old_paths()
# pyarrow gives freed memory back to the system (see parsc_geo._memory); workers inherit it.
_prefer_system_pool()
# glibc gives large freed blocks back at once (see parsc_geo._memory); workers set it too.
_fix_mmap_threshold()
# Announcements of automatic choices are shown on stderr by default (see parsc_geo._messages).
_show_announcements()
