"""The small JavaScript runtime shared by every parsc-geo map (parsc-geo's own code).

Every text that may come from input data reaches the page as JSON data and is put in the DOM
with ``textContent``, never ``innerHTML``: a label such as ``<img src=x onerror=alert(1)>``
shows as text and runs nothing. Leaflet's popups and tooltips get DOM elements, not strings.
"""

from __future__ import annotations

from typing import Final

RUNTIME_JS: Final = r"""
(function () {
  "use strict";
  var P = {incidentLayers: []};
  P.el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  };
  // rows: [[label, value], ...] -> <table>; title optional. All text set with textContent.
  P.table = function (rows, title) {
    var box = P.el("div", null, "parsc-popup");
    if (title) { box.appendChild(P.el("div", title, "parsc-popup-title")); }
    var t = P.el("table");
    for (var i = 0; i < rows.length; i++) {
      var tr = P.el("tr");
      tr.appendChild(P.el("th", rows[i][0]));
      tr.appendChild(P.el("td", rows[i][1]));
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  };
  // GeoJSON layer whose features carry properties.style, .popup ([[k, v]]), .popup_title,
  // .tooltip (hover text) and .label (permanent label).
  P.geojson = function (data, opts) {
    opts = opts || {};
    return L.geoJSON(data, {
      style: function (f) { return (f.properties && f.properties.style) || {}; },
      pointToLayer: function (f, latlng) {
        var s = (f.properties && f.properties.style) || {};
        return L.circleMarker(latlng, s);
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        if (p.popup) {
          layer.bindPopup(function () { return P.table(p.popup, p.popup_title); },
                          {maxWidth: 320});
        }
        if (p.label !== undefined && p.label !== null) {
          layer.bindTooltip(P.el("span", p.label), {permanent: true, direction: "center",
            className: opts.labelClass || "parsc-label", interactive: false});
        } else if (p.tooltip !== undefined && p.tooltip !== null) {
          layer.bindTooltip(P.el("span", p.tooltip), {sticky: true});
        }
      }
    });
  };
  // Phones: layer list behind its button, legends and title folded to one line each.
  P.small = function () {
    return !!(window.matchMedia && window.matchMedia("(max-width: 700px)").matches);
  };
  var layersControl = L.control.layers;
  L.control.layers = function (base, overlays, options) {
    return layersControl(base, overlays, L.extend({}, options, P.small() ? {collapsed: true} : {}));
  };
  P.compact = function () {
    if (!P.small()) { return; }
    var folds = document.querySelectorAll("details.parsc-legend, details.parsc-title");
    for (var i = 0; i < folds.length; i++) { folds[i].removeAttribute("open"); }
  };
  // Permanent labels (subsectors) only from LABEL_MIN_ZOOM on: they would cover everything.
  P.labelZoom = function (map, minZoom) {
    function update() {
      var c = map.getContainer();
      if (map.getZoom() < minZoom) { L.DomUtil.addClass(c, "parsc-zoom-low"); }
      else { L.DomUtil.removeClass(c, "parsc-zoom-low"); }
    }
    map.on("zoomend", update);
    map.whenReady(update);
  };
  // Fullscreen button (Fullscreen API), Spanish title.
  P.Fullscreen = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control parsc-fullscreen");
      var a = L.DomUtil.create("a", "", bar);
      a.href = "#"; a.setAttribute("role", "button");
      a.title = "Pantalla completa"; a.setAttribute("aria-label", "Pantalla completa");
      var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 16 16"); svg.setAttribute("width", "16");
      svg.setAttribute("height", "16");
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", "M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5");
      path.setAttribute("fill", "none"); path.setAttribute("stroke", "#222");
      path.setAttribute("stroke-width", "2");
      svg.appendChild(path); a.appendChild(svg);
      L.DomEvent.on(a, "click", function (ev) {
        L.DomEvent.preventDefault(ev);
        var root = document.documentElement;
        if (document.fullscreenElement) { document.exitFullscreen(); }
        else if (root.requestFullscreen) { root.requestFullscreen(); }
      });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    }
  });
  // Clustered incidents with one layer-control toggle per fenómeno and a month filter.
  // Public maps (d.public): one marker per generalised place and fenómeno, weighing d.w[i]
  // incidents, whose popup lists categories and counts only (see parsc_geo.privacy).
  P.incidents = function (map, d, toggles) {
    var container = map.getContainer();
    var weight = function (i) { return d.public ? d.w[i] : 1; };
    // data-parsc-ready = "1" once every visible point is in the cluster layer (tests, benchmarks).
    var options = {chunkedLoading: true, showCoverageOnHover: false,
      maxClusterRadius: 45, disableClusteringAtZoom: 18, chunkInterval: 1000, chunkDelay: 10,
      chunkProgress: function (done, total) {
        if (done >= total) { container.setAttribute("data-parsc-ready", "1"); }
      }};
    if (d.public) {
      // a cluster shows the incidents it holds, not its markers (numbers only, no data text)
      options.iconCreateFunction = function (c) {
        var total = 0;
        c.getAllChildMarkers().forEach(function (mk) { total += weight(mk.parscIndex); });
        var size = total < 10 ? "small" : (total < 100 ? "medium" : "large");
        var box = P.el("div"), span = P.el("span", String(total));
        box.appendChild(span);
        return L.divIcon({html: box, className: "marker-cluster marker-cluster-" + size,
                          iconSize: L.point(40, 40)});
      };
    }
    var cluster = L.markerClusterGroup(options);
    var renderer = L.canvas({padding: 0.5});
    var n = d.lat.length, markers = new Array(n), active = {}, month = -1, total = 0;
    for (var t = 0; t < n; t++) { total += weight(t); }
    var scale = Math.pow(10, d.decimals);
    Object.keys(toggles).forEach(function (k) { active[k] = map.hasLayer(toggles[k]); });
    function popup(i) {
      if (d.public) {
        var items = d.c[i].map(function (pair) { return [d.cats[pair[0]], String(pair[1])]; });
        items.push(["Total en este lugar", String(d.w[i])]);
        items.push(["Lugar generalizado", "centro de una celda de " + d.cell[i] + " m"]);
        return P.table(items, d.fenomeno_labels[d.f[i]]);
      }
      var rows = [["Delito", d.modalidades[d.m[i]]], ["Genérico", d.generico_labels[d.g[i]]]];
      rows.push(["Fecha", d.dates[d.dt[i]]]);
      rows.push(["Hora", d.h[i] >= 0 ? (d.h[i] < 10 ? "0" : "") + d.h[i] + ":00–" +
                 (d.h[i] < 9 ? "0" : "") + (d.h[i] + 1) + ":00" : "sin hora"]);
      rows.push(["Sector", d.sectors[d.s[i]]]);
      return P.table(rows, d.fenomeno_labels[d.f[i]]);
    }
    function marker(i) {
      if (!markers[i]) {
        var mk = L.circleMarker([d.lat[i] / scale, d.lon[i] / scale], {renderer: renderer,
          radius: 6, color: "#333333", weight: 1, fillColor: d.generico_colors[d.g[i]],
          fillOpacity: 0.9});
        mk.parscIndex = i;
        markers[i] = mk;
      }
      return markers[i];
    }
    // One popup handler for the whole layer: 100,000 bound popups would cost seconds.
    cluster.parscPopup = popup;
    cluster.on("click", function (e) {
      if (e.layer && e.layer.parscIndex !== undefined) {
        L.popup({maxWidth: 320}).setLatLng(e.layer.getLatLng())
          .setContent(popup(e.layer.parscIndex)).openOn(map);
      }
    });
    var counter = null;
    function refresh() {
      cluster.clearLayers();
      var list = [], visible = 0;
      for (var i = 0; i < n; i++) {
        if (active[d.fenomenos[d.f[i]]] && (month < 0 || d.mo[i] === month)) {
          list.push(marker(i));
          visible += weight(i);
        }
      }
      container.setAttribute("data-parsc-ready", list.length ? "0" : "1");
      cluster.addLayers(list);
      if (counter) { counter.textContent = visible + " de " + total + " incidentes visibles"; }
      container.setAttribute("data-parsc-visible-incidents", String(visible));
    }
    map.on("overlayadd overlayremove", function (e) {
      Object.keys(toggles).forEach(function (k) {
        if (e.layer === toggles[k]) { active[k] = (e.type === "overlayadd"); refresh(); }
      });
    });
    var Filter = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar leaflet-control parsc-period");
        var lab = P.el("label", "Periodo: ");
        var sel = P.el("select");
        sel.id = "parsc-period-select";
        sel.appendChild(P.el("option", "Todo el periodo"));
        sel.options[0].value = "-1";
        for (var j = 0; j < d.month_labels.length; j++) {
          var o = P.el("option", d.month_labels[j] + " (" + d.month_counts[j] + ")");
          o.value = String(j); sel.appendChild(o);
        }
        sel.addEventListener("change", function () { month = parseInt(sel.value, 10); refresh(); });
        lab.appendChild(sel); box.appendChild(lab);
        counter = P.el("div", "", "parsc-counter"); box.appendChild(counter);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    if (d.month_labels.length > 0) { new Filter().addTo(map); }
    cluster.addTo(map);
    refresh();
    P.incidentLayers.push(cluster);
    return cluster;
  };
  window.parscGeo = P;
})();
"""

RUNTIME_CSS: Final = """
.parsc-popup table { border-collapse: collapse; font-size: 12px; }
.parsc-popup th { text-align: left; padding: 1px 6px 1px 0; color: #444; vertical-align: top; }
.parsc-popup td { padding: 1px 0; }
.parsc-popup-title { font-weight: bold; margin-bottom: 4px; }
.parsc-label { background: rgba(255,255,255,0.75); border: 0; box-shadow: none;
  font-size: 11px; font-weight: bold; padding: 0 2px; color: #222; }
.parsc-rank { background: #111; color: #fff; border: 2px solid #fff; border-radius: 12px;
  font-weight: bold; font-size: 12px; padding: 1px 7px; }
.parsc-rank::before, .parsc-label::before { display: none; }
.parsc-zoom-low .parsc-label { display: none; }
.parsc-fullscreen a { display: flex; align-items: center; justify-content: center; }
.leaflet-control-layers { font-size: 12px; max-height: 42vh; overflow: auto; }
.parsc-period { background: #fff; padding: 4px 6px; font: 12px sans-serif; }
.parsc-counter { color: #555; margin-top: 2px; }
.parsc-title { position: absolute; z-index: 1000; top: 10px; left: 54px; max-width: 380px;
  background: rgba(255,255,255,0.94); border-radius: 6px; padding: 6px 10px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font: 12px/1.35 sans-serif; color: #222;
  max-height: 70vh; overflow: auto; }
.parsc-title summary { font-size: 15px; font-weight: bold; cursor: pointer; }
.parsc-title dl { margin: 4px 0; display: grid; grid-template-columns: auto 1fr; gap: 1px 8px; }
.parsc-title dt { font-weight: bold; color: #555; }
.parsc-title dd { margin: 0; }
.parsc-title .parsc-params { font-size: 11px; color: #333; }
.parsc-title .parsc-params code { white-space: pre-wrap; }
.parsc-notice { margin-top: 4px; padding: 3px 6px; background: #fff3cd; border: 1px solid #e0b000;
  font-weight: bold; }
.parsc-notice.parsc-public { background: #e7f3ff; border-color: #5b9bd5; font-weight: normal; }
.parsc-banner { position: absolute; z-index: 1001; top: 0; left: 50%; transform: translateX(-50%);
  background: #b00020; color: #fff; font: bold 15px sans-serif; padding: 5px 16px;
  border-radius: 0 0 6px 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.5); pointer-events: none;
  white-space: nowrap; }
.parsc-legends { position: absolute; z-index: 1000; bottom: 28px; right: 10px; max-width: 290px;
  max-height: 48vh; overflow: auto; font: 12px/1.3 sans-serif; }
.parsc-legend { background: rgba(255,255,255,0.94); border-radius: 6px; padding: 4px 8px;
  margin-top: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.4); }
.parsc-legend summary { font-weight: bold; cursor: pointer; }
.parsc-legend ul { list-style: none; margin: 3px 0; padding: 0; }
.parsc-legend li { margin: 1px 0; display: flex; align-items: center; gap: 6px; }
.parsc-swatch { display: inline-block; width: 12px; height: 12px; flex: none;
  border: 1px solid #333; }
.parsc-swatch.parsc-circle { border-radius: 50%; }
.parsc-swatch.parsc-line { height: 0; border-width: 2px 0 0 0; width: 16px; }
.parsc-count { color: #555; margin-left: auto; }
.parsc-colorbar { height: 12px; border: 1px solid #555; margin-top: 3px; }
.parsc-colorbar-ticks { display: flex; justify-content: space-between; font-size: 11px; }
.leaflet-container { background: #eef0f2; }
@media (max-width: 700px) {
  .parsc-title { top: auto; bottom: 62px; left: 8px; max-width: 44vw; font-size: 11px; }
  .parsc-title summary { font-size: 12px; }
  .parsc-legends { max-width: 50vw; bottom: 62px; }
  .parsc-banner { top: auto; bottom: 0; left: 0; transform: none; width: 100%;
    box-sizing: border-box; border-radius: 0; font-size: 12px; padding: 4px 8px;
    text-align: center; white-space: normal; }
  .leaflet-bottom { bottom: 26px; }
}
"""
