# parsc-geo: two set-up commands, `make demo` and `make test`. Both create or reuse .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.parsc-geo-installed

.PHONY: demo test lint clean-venv

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "parsc-geo needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/parsc-geo demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check parsc_geo tests benchmarks
	$(BIN)/ruff format --check parsc_geo tests benchmarks
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)

# The command line's gettext catalog: template from the code, Spanish .po merged, .mo compiled.
.PHONY: locale
locale: $(STAMP)
	$(BIN)/python -m parsc_geo.cli.msgids parsc_geo/locale/parsc_geo.pot
	msgmerge --quiet --no-wrap --update --backup=none parsc_geo/locale/es/LC_MESSAGES/parsc_geo.po parsc_geo/locale/parsc_geo.pot
	msgfmt --check -o parsc_geo/locale/es/LC_MESSAGES/parsc_geo.mo parsc_geo/locale/es/LC_MESSAGES/parsc_geo.po
