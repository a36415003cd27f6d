"""Bundled samples and the reproducible generator of the synthetic "mapa del delito".

The sample is **synthetic** (``settings.SYNTHETIC_BANNER``): only its inputs are real —
district boundaries, 2017 census population, CENACOM 2017 police stations, RENADEF 2017
workload per station, populated places, the SIDPPOL yearly series and the PARSC 2021 table of
complaints by modalidad. See :mod:`.mix` (volume and mix), :mod:`.allocation` (the district
rule), :mod:`.places` (where inside a district), :mod:`.profiles` (when),
:mod:`.jurisdictions` (sectors), :mod:`.messy` (the field-style export) and :mod:`.bundle`
(files and manifest).

Examples
--------
>>> from parsc_geo.datasets import sample_paths
>>> sorted(sample_paths())  # doctest: +SKIP
['incidents', 'manifest', 'messy_csv', 'messy_kml', 'sectors']
"""

from __future__ import annotations

from .bundle import sample_paths, write_sample
from .generator import GENERATOR_VERSION, SyntheticSample, generate_sample

__all__ = [
    "GENERATOR_VERSION",
    "SyntheticSample",
    "generate_sample",
    "sample_paths",
    "write_sample",
]
