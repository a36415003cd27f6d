"""Allow ``python -m parsc_geo``."""

from parsc_geo.cli.main import main

main()
