"""Interactive HTML maps (folium/Leaflet): shared building blocks, layers and the atlas.

Building blocks (:mod:`parsc_geo.maps.base`) are public so that every map of parsc-geo looks
the same: :func:`new_map`, :func:`add_title_block`, :func:`add_synthetic_banner`,
:func:`add_legend`, :func:`add_colorbar`, :func:`add_layer_control`, :func:`write_map_html`.
"""

from __future__ import annotations

from .atlas import BuiltMap, build_comisaria_map, build_province_map, write_atlas
from .base import (
    add_colorbar,
    add_layer_control,
    add_legend,
    add_synthetic_banner,
    add_title_block,
    esc,
    js_json,
    new_map,
    render_map_html,
    write_map_html,
)

__all__ = [
    "BuiltMap",
    "add_colorbar",
    "add_layer_control",
    "add_legend",
    "add_synthetic_banner",
    "add_title_block",
    "build_comisaria_map",
    "build_province_map",
    "esc",
    "js_json",
    "new_map",
    "render_map_html",
    "write_atlas",
    "write_map_html",
]
