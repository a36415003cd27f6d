"""parsc-geo: crime maps of Peru's police stations turned into hotspots, patrol plans and maps."""

__version__ = "0.1.0"

__all__ = ["__version__"]
