"""Command-line interface of parsc-geo (a thin layer over the library)."""
