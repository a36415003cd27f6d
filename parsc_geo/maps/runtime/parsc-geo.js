/* parsc-geo map runtime (MIT). Loaded from lib/parsc-geo.js or inlined in offline pages.
 *
 * Every text that may come from input data arrives as JSON data and reaches the DOM through
 * textContent (P.el), never innerHTML; the only exception is Leaflet's layer control, which
 * sets names with innerHTML: names given to it here go through P.escapeHtml.
 */
(function () {
  "use strict";
  var P = {incidentLayers: [], layerControls: [], collapseWidth: 1600, phoneWidth: 700};
  var NBSP = "\u00a0";

  // ---------------------------------------------------------------- DOM and text helpers
  P.el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  };
  P.escapeHtml = function (text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  };
  // Integers with the project's thousands separator (a non-breaking space): 12 345.
  P.fmt = function (n) {
    if (typeof n !== "number") { return String(n); }
    return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  };
  P.width = function () { return window.innerWidth || document.documentElement.clientWidth; };
  P.small = function () { return P.width() < P.phoneWidth; };
  P.wide = function () { return P.width() >= P.collapseWidth; };

  // ---------------------------------------------------------------- the period (month) filter
  // i = -1: the whole period; i >= 0: month i of labels. Layers that follow the filter carry
  // counts as [whole, month 0, month 1, ...] and listen with P.onPeriod.
  P.period = {i: -1, labels: [], listeners: []};
  P.onPeriod = function (fn) { P.period.listeners.push(fn); };
  P.setPeriod = function (i) {
    P.period.i = i;
    for (var k = 0; k < P.period.listeners.length; k++) { P.period.listeners[k](i); }
    var maps = P.maps || [];
    for (var m = 0; m < maps.length; m++) {
      maps[m].getContainer().setAttribute("data-parsc-period", String(i));
    }
  };
  P.periodName = function () {
    return P.period.i < 0 ? "todo el periodo" : P.period.labels[P.period.i];
  };
  P.at = function (series) {
    var v = series[P.period.i + 1];
    return v === undefined || v === null ? 0 : v;
  };
  // A text given as parts: strings, {n: [whole, m0, ...]} (a count that follows the period) or
  // {period: true} (the name of the period shown).
  P.text = function (parts) {
    if (!Array.isArray(parts)) { return parts === undefined || parts === null ? "" : String(parts); }
    var out = "";
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (p !== null && typeof p === "object") {
        if (p.n) { out += P.fmt(P.at(p.n)); } else if (p.period) { out += P.periodName(); }
      } else if (p !== null && p !== undefined) { out += String(p); }
    }
    return out;
  };
  P.follows = function (parts) {
    if (!Array.isArray(parts)) { return false; }
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] !== null && typeof parts[i] === "object") { return true; }
    }
    return false;
  };

  // ---------------------------------------------------------------- popups
  // rows: [[label, value], ...] -> <table>; labels and values may be parts (see P.text).
  P.table = function (rows, title) {
    var box = P.el("div", null, "parsc-popup");
    if (title) { box.appendChild(P.el("div", P.text(title), "parsc-popup-title")); }
    var t = P.el("table");
    for (var i = 0; i < rows.length; i++) {
      var tr = P.el("tr");
      tr.appendChild(P.el("th", P.text(rows[i][0])));
      tr.appendChild(P.el("td", P.text(rows[i][1])));
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  };

  // A small bar chart of a cell's counts per period (SVG built here from numbers only): bars
  // in red where the period's Gi* z >= 1.96, blue where <= -1.96, grey otherwise.
  P.sparkline = function (counts, z, periods) {
    var ns = "http://www.w3.org/2000/svg";
    var n = counts.length, w = 220, h = 56, pad = 2;
    var top = 1;
    for (var i = 0; i < n; i++) { if (counts[i] > top) { top = counts[i]; } }
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", String(w)); svg.setAttribute("height", String(h));
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "parsc-spark");
    svg.setAttribute("role", "img");
    var bw = (w - 2 * pad) / Math.max(n, 1);
    for (var j = 0; j < n; j++) {
      var bh = Math.max(1, (h - 2 * pad) * counts[j] / top);
      var r = document.createElementNS(ns, "rect");
      r.setAttribute("x", (pad + j * bw + 0.5).toFixed(1));
      r.setAttribute("y", (h - pad - bh).toFixed(1));
      r.setAttribute("width", Math.max(bw - 1, 1).toFixed(1));
      r.setAttribute("height", bh.toFixed(1));
      var zj = z ? z[j] : null;
      r.setAttribute("fill", zj !== null && zj >= 1.96 ? "#d7301f" :
                     (zj !== null && zj <= -1.96 ? "#2166ac" : "#9e9e9e"));
      var tip = document.createElementNS(ns, "title");
      tip.textContent = (periods ? periods[j] + ": " : "") + counts[j] +
        (zj !== null && zj !== undefined ? " (z = " + zj.toFixed(2).replace(".", ",") + ")" : "");
      r.appendChild(tip);
      svg.appendChild(r);
    }
    var box = P.el("div", null, "parsc-spark-box");
    box.appendChild(svg);
    if (periods && periods.length) {
      var axis = P.el("div", null, "parsc-spark-axis");
      axis.appendChild(P.el("span", periods[0]));
      axis.appendChild(P.el("span", "máx. " + P.fmt(top)));
      axis.appendChild(P.el("span", periods[periods.length - 1]));
      box.appendChild(axis);
    }
    return box;
  };

  // ---------------------------------------------------------------- GeoJSON layers
  // Features carry properties.style, .popup ([[k, v]]), .popup_title, .tooltip (hover text),
  // .label (permanent label) and, for emerging hot spots, .series ({counts, z}) and .trend.
  // Labels, tooltips and popup values given as parts follow the period filter.
  P.geojson = function (data, opts) {
    opts = opts || {};
    var following = [];
    var layer = L.geoJSON(data, {
      style: function (f) { return (f.properties && f.properties.style) || {}; },
      pointToLayer: function (f, latlng) {
        var s = (f.properties && f.properties.style) || {};
        return L.circleMarker(latlng, s);
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties || {};
        if (p.popup || p.series) {
          lyr.bindPopup(function () {
            var box = P.table(p.popup || [], p.popup_title);
            if (p.series) {
              box.appendChild(P.el("div", opts.seriesTitle || "", "parsc-spark-title"));
              box.appendChild(P.sparkline(p.series.counts, p.series.z, opts.periods));
              if (p.trend) { box.appendChild(P.el("div", p.trend, "parsc-trend")); }
            }
            return box;
          }, {maxWidth: 320});
        }
        if (p.label !== undefined && p.label !== null) {
          lyr.bindTooltip(P.el("span", P.text(p.label)), {permanent: true, direction: "center",
            className: opts.labelClass || "parsc-label", interactive: false});
          if (P.follows(p.label)) { following.push([lyr, p.label]); }
        } else if (p.tooltip !== undefined && p.tooltip !== null) {
          lyr.bindTooltip(P.el("span", P.text(p.tooltip)), {sticky: true});
          if (P.follows(p.tooltip)) { following.push([lyr, p.tooltip]); }
        }
      }
    });
    if (following.length) {
      P.onPeriod(function () {
        for (var i = 0; i < following.length; i++) {
          following[i][0].setTooltipContent(P.el("span", P.text(following[i][1])));
        }
      });
    }
    if (opts.badges) { P.badgeLayers.push(layer); }
    return layer;
  };
  P.badgeLayers = [];

  // ---------------------------------------------------------------- layer control
  // Collapsed below P.collapseWidth (the list would cover the map); names changed later (counts
  // that follow the period) go through P.renameOverlay.
  var layersControl = L.control.layers;
  L.control.layers = function (base, overlays, options) {
    var ctrl = layersControl(base, overlays,
      L.extend({}, options, P.wide() ? {} : {collapsed: true}));
    P.layerControls.push(ctrl);
    return ctrl;
  };
  P.renameOverlay = function (layer, text) {
    for (var c = 0; c < P.layerControls.length; c++) {
      var ctrl = P.layerControls[c], changed = false;
      for (var i = 0; i < ctrl._layers.length; i++) {
        if (ctrl._layers[i].layer === layer) {
          ctrl._layers[i].name = P.escapeHtml(text);
          changed = true;
        }
      }
      if (changed && ctrl._map) { ctrl._update(); }
    }
  };

  // ---------------------------------------------------------------- density
  // One image per period: d.urls[0] the whole period (monthly average), d.urls[1 + i] month i
  // (null: no incident that month). Same classes on every image and page.
  P.density = function (map, d) {
    var blank = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
    var overlay = L.imageOverlay(d.urls[0], d.bounds,
      {opacity: d.opacity, interactive: false, className: "parsc-density"});
    function show(i) {
      var url = d.urls[i + 1];
      overlay.setUrl(url || blank);
      map.getContainer().setAttribute("data-parsc-density", String(i));
      var when = document.getElementById("parsc-density-when");
      if (when) {
        when.textContent = i < 0 ? (d.whole || "promedio mensual del periodo") :
          P.period.labels[i] + (url ? "" : ": sin incidentes");
      }
    }
    P.onPeriod(show);
    map.getContainer().setAttribute("data-parsc-density", "-1");
    return overlay;
  };

  // ---------------------------------------------------------------- the period control
  P.periodControl = function (map, d) {
    P.period.labels = d.labels;
    var Control = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar leaflet-control parsc-period");
        box.id = "parsc-period";
        var lab = P.el("label", "Periodo: ");
        var sel = P.el("select");
        sel.id = "parsc-period-select";
        var all = P.el("option", "Todo el periodo (" + P.fmt(d.total) + ")");
        all.value = "-1"; sel.appendChild(all);
        for (var j = 0; j < d.labels.length; j++) {
          var o = P.el("option", d.labels[j] + " (" + P.fmt(d.counts[j]) + ")");
          o.value = String(j); sel.appendChild(o);
        }
        sel.addEventListener("change", function () {
          map.closePopup();
          P.setPeriod(parseInt(sel.value, 10));
        });
        lab.appendChild(sel); box.appendChild(lab);
        box.appendChild(P.el("div", "", "parsc-counter"));
        if (d.note) {
          var note = P.el("details", null, "parsc-period-note");
          if (!P.small()) { note.setAttribute("open", ""); }
          note.appendChild(P.el("summary", "Qué cambia con el periodo"));
          for (var k = 0; k < d.note.length; k++) { note.appendChild(P.el("div", d.note[k])); }
          box.appendChild(note);
        }
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    new Control().addTo(map);
  };

  // ---------------------------------------------------------------- incidents
  // Clustered incidents with one layer-control toggle per fenómeno; they follow the period.
  // Public maps (d.public): one marker per generalised place and fenómeno, weighing d.w[i]
  // incidents, whose popup lists categories and counts only (see parsc_geo.privacy).
  P.incidents = function (map, d, toggles) {
    var container = map.getContainer();
    var weight = function (i) { return d.public ? d.w[i] : 1; };
    // data-parsc-ready = "1" once every visible point is in the cluster layer (tests, benchmarks).
    var options = {chunkedLoading: true, showCoverageOnHover: false,
      maxClusterRadius: 45, disableClusteringAtZoom: 18, chunkInterval: 1000, chunkDelay: 10,
      chunkProgress: function (done, total) {
        if (done >= total) { container.setAttribute("data-parsc-ready", "1"); P.declutterSoon(map); }
      }};
    if (d.public) {
      // a cluster shows the incidents it holds, not its markers (numbers only, no data text)
      options.iconCreateFunction = function (c) {
        var total = 0;
        c.getAllChildMarkers().forEach(function (mk) { total += weight(mk.parscIndex); });
        var size = total < 10 ? "small" : (total < 100 ? "medium" : "large");
        var box = P.el("div"), span = P.el("span", P.fmt(total));
        box.appendChild(span);
        return L.divIcon({html: box, className: "marker-cluster marker-cluster-" + size,
                          iconSize: L.point(40, 40)});
      };
    }
    var cluster = L.markerClusterGroup(options);
    var renderer = L.canvas({padding: 0.5});
    var n = d.lat.length, markers = new Array(n), active = {}, total = 0;
    for (var t = 0; t < n; t++) { total += weight(t); }
    var scale = Math.pow(10, d.decimals);
    var codes = Object.keys(toggles);
    codes.forEach(function (k) { active[k] = map.hasLayer(toggles[k]); });
    function hourText(h) {
      if (h < 0) { return "sin hora"; }
      return (h < 10 ? "0" : "") + h + ":00–" + (h < 9 ? "0" : "") + (h + 1) + ":00";
    }
    function popup(i) {
      if (d.public) {
        var items = d.c[i].map(function (pair) { return [d.cats[pair[0]], String(pair[1])]; });
        items.push(["Total en este lugar", String(d.w[i])]);
        items.push(["Lugar generalizado", "centro de una celda de " + d.cell[i] + " m"]);
        return P.table(items, d.fenomeno_labels[d.f[i]]);
      }
      var rows = [];
      if (d.id && d.id[i] >= 0) { rows.push(["N.º de denuncia", d.ids[d.id[i]]]); }
      rows.push(["Delito", d.modalidades[d.m[i]]], ["Genérico", d.generico_labels[d.g[i]]]);
      rows.push(["Fecha", d.dates[d.dt[i]]], ["Hora", hourText(d.h[i])]);
      if (d.ad && d.ad[i] >= 0) { rows.push(["Dirección o referencia", d.addresses[d.ad[i]]]); }
      rows.push(["Sector", d.sectors[d.s[i]]]);
      if (d.src && d.src[i] >= 0) {
        rows.push(["Archivo de origen", d.sources[d.src[i]] + ", fila " + d.row[i]]);
      }
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
    cluster.on("animationend", function () { P.declutterSoon(map); });
    function legendCounts(byG) {
      var box = document.getElementById("parsc-legend-incidentes");
      if (!box) { return; }
      var items = box.querySelectorAll("li[data-key]");
      for (var k = 0; k < items.length; k++) {
        var g = parseInt(items[k].getAttribute("data-key"), 10);
        var span = items[k].querySelector(".parsc-count");
        if (span) { span.textContent = P.fmt(byG[g] || 0); }
      }
      var when = box.querySelector(".parsc-legend-when");
      if (when) { when.textContent = "Periodo: " + P.periodName(); }
    }
    function refresh() {
      cluster.clearLayers();
      var list = [], visible = 0, month = P.period.i, byG = {}, byF = {};
      for (var i = 0; i < n; i++) {
        var inPeriod = d.public || month < 0 || d.mo[i] === month;
        if (!inPeriod) { continue; }
        var f = d.fenomenos[d.f[i]];
        byF[f] = (byF[f] || 0) + weight(i);
        if (active[f]) {
          list.push(marker(i));
          visible += weight(i);
          byG[d.g[i]] = (byG[d.g[i]] || 0) + weight(i);
        }
      }
      container.setAttribute("data-parsc-ready", list.length ? "0" : "1");
      cluster.addLayers(list);
      var counter = container.querySelector(".parsc-counter");
      if (counter) {
        var inMonth = 0;
        for (var key in byF) { if (byF.hasOwnProperty(key)) { inMonth += byF[key]; } }
        counter.textContent = P.fmt(visible) + " de " + P.fmt(month < 0 ? total : inMonth) +
          " incidentes visibles";
      }
      container.setAttribute("data-parsc-visible-incidents", String(visible));
      if (!d.public) {
        legendCounts(byG);
        codes.forEach(function (k) {
          var label = d.fenomeno_labels[d.fenomenos.indexOf(k)];
          P.renameOverlay(toggles[k], "Incidentes: " + label + " (" + P.fmt(byF[k] || 0) + ")");
        });
      }
      P.declutterSoon(map);
    }
    map.on("overlayadd overlayremove", function (e) {
      codes.forEach(function (k) {
        if (e.layer === toggles[k]) { active[k] = (e.type === "overlayadd"); refresh(); }
      });
    });
    if (!d.public) { P.onPeriod(refresh); }
    cluster.addTo(map);
    refresh();
    P.incidentLayers.push(cluster);
    return cluster;
  };

  // ---------------------------------------------------------------- rank badges never overlap
  // Zone badges (K1, H2, G1 …) are moved off cluster bubbles, markers, labels and each other:
  // each badge tries its own place, then places around it at growing distances.
  function rectOf(el) {
    var r = el.getBoundingClientRect();
    return {l: r.left, t: r.top, r: r.right, b: r.bottom};
  }
  function hit(a, b, gap) {
    return a.l < b.r + gap && b.l < a.r + gap && a.t < b.b + gap && b.t < a.b + gap;
  }
  function shifted(r, dx, dy) { return {l: r.l + dx, t: r.t + dy, r: r.r + dx, b: r.b + dy}; }
  P.declutter = function (map) {
    var root = map.getContainer();
    var badges = Array.prototype.slice.call(root.querySelectorAll(".parsc-badge"));
    if (!badges.length) { return 0; }
    var obstacles = [];
    var others = root.querySelectorAll(
      ".marker-cluster, .leaflet-marker-pane .leaflet-marker-icon, .parsc-label");
    for (var i = 0; i < others.length; i++) {
      if (others[i].offsetParent !== null) { obstacles.push(rectOf(others[i])); }
    }
    // a badge moves at most two rings away from its zone; with no room there it is hidden
    // until the map is zoomed in (first ranks are placed first)
    var moves = [[0, 0]];
    for (var ring = 1; ring <= 2; ring++) {
      var s = 13 * ring;
      moves.push([0, -s], [0, s], [s + 8, 0], [-s - 8, 0], [s, -s], [-s, -s], [s, s], [-s, s]);
    }
    function rank(el) {
      var m = /(\d+)/.exec(el.textContent || "");
      return m ? parseInt(m[1], 10) : 0;
    }
    badges.forEach(function (el) {
      el.style.marginLeft = "0px"; el.style.marginTop = "0px";
      el.classList.remove("parsc-badge-hidden");
    });
    badges.sort(function (a, b) { return rank(a) - rank(b); });
    var moved = 0, hidden = 0;
    for (var k = 0; k < badges.length; k++) {
      var el = badges[k];
      if (el.offsetParent === null) { continue; }
      var base = rectOf(el), chosen = null;
      for (var m = 0; m < moves.length && chosen === null; m++) {
        var cand = shifted(base, moves[m][0], moves[m][1]), free = true;
        for (var o = 0; o < obstacles.length && free; o++) {
          if (hit(cand, obstacles[o], 2)) { free = false; }
        }
        if (free) { chosen = [moves[m], cand]; }
      }
      if (chosen === null) {
        el.classList.add("parsc-badge-hidden");
        hidden += 1;
        continue;
      }
      if (chosen[0][0] || chosen[0][1]) {
        el.style.marginLeft = chosen[0][0] + "px"; el.style.marginTop = chosen[0][1] + "px";
        moved += 1;
      }
      obstacles.push(chosen[1]);
    }
    root.setAttribute("data-parsc-badges-hidden", String(hidden));
    root.setAttribute("data-parsc-decluttered", String(moved));
    return moved;
  };
  P.declutterSoon = function (map) {
    if (map._parscDeclutter) { clearTimeout(map._parscDeclutter); }
    map._parscDeclutter = setTimeout(function () { P.declutter(map); }, 80);
  };

  // ---------------------------------------------------------------- offline base map
  // Populated places, district capitals and district names from parsc-geo's bundled data:
  // dots on a canvas, labels placed greedily (most important first) so that none overlaps.
  P.basemap = function (map, d, group) {
    var scale = Math.pow(10, d.decimals);
    var renderer = L.canvas({padding: 0.3});
    var kinds = d.kinds;  // [{name, radius, color, minZoom, labelZoom, cls}], most important first
    var items = [];
    for (var i = 0; i < d.lat.length; i++) {
      var kind = kinds[d.k[i]];
      var ll = L.latLng(d.lat[i] / scale, d.lon[i] / scale);
      items.push({ll: ll, name: d.names[i], kind: kind, order: d.k[i]});
      if (kind.radius > 0) {
        var mk = L.circleMarker(ll, {renderer: renderer, radius: kind.radius, color: "#ffffff",
          weight: 1, fillColor: kind.color, fillOpacity: 1, interactive: true,
          bubblingMouseEvents: true});
        mk.bindTooltip(P.el("span", d.names[i] + (kind.title ? " (" + kind.title + ")" : "")),
                       {sticky: true});
        mk.parscMinZoom = kind.minZoom;
        group.addLayer(mk);
        items[items.length - 1].marker = mk;
      }
    }
    var pane = map.createPane("parscBaseLabels");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    function draw() {
      while (pane.firstChild) { pane.removeChild(pane.firstChild); }
      var on = map.hasLayer(group);
      L.DomUtil[on ? "addClass" : "removeClass"](map.getContainer(), "parsc-base-on");
      if (!on) { map.getContainer().setAttribute("data-parsc-base-labels", "0"); return; }
      var zoom = map.getZoom(), size = map.getSize(), placed = [];
      items.forEach(function (it) {
        if (it.marker) {
          var on = zoom >= it.kind.minZoom;
          it.marker.setStyle({opacity: on ? 1 : 0, fillOpacity: on ? 1 : 0});
        }
      });
      for (var j = 0; j < items.length; j++) {
        var it = items[j];
        if (zoom < it.kind.labelZoom) { continue; }
        var pt = map.latLngToLayerPoint(it.ll), cp = map.latLngToContainerPoint(it.ll);
        if (cp.x < -50 || cp.y < -20 || cp.x > size.x + 50 || cp.y > size.y + 20) { continue; }
        var w = 6.2 * it.name.length * (it.kind.font || 1) + 4, h = 14 * (it.kind.font || 1);
        var dx = it.kind.radius > 0 ? it.kind.radius + 3 : -w / 2;
        var box = {l: cp.x + dx, t: cp.y - h / 2, r: cp.x + dx + w, b: cp.y + h / 2};
        var free = true;
        for (var q = 0; q < placed.length && free; q++) { if (hit(box, placed[q], 1)) { free = false; } }
        if (!free) { continue; }
        placed.push(box);
        var lab = P.el("div", it.name, "parsc-base-label " + it.kind.cls);
        L.DomUtil.setPosition(lab, L.point(pt.x + dx, pt.y - h / 2));
        pane.appendChild(lab);
      }
      map.getContainer().setAttribute("data-parsc-base-labels", String(placed.length));
    }
    map.on("zoomend moveend overlayadd overlayremove", draw);
    map.whenReady(function () { setTimeout(draw, 0); });
    // With base tiles that cannot load (no network), the vector base map is switched on.
    var tiles = [];
    map.eachLayer(function (l) { if (l instanceof L.TileLayer) { tiles.push(l); } });
    if (!tiles.length) { return group; }
    var loaded = false, failed = false;
    tiles.forEach(function (tl) {
      tl.on("tileload", function () { loaded = true; });
      tl.on("tileerror", function () {
        if (!loaded && !failed) {
          failed = true;
          if (!map.hasLayer(group)) { map.addLayer(group); }
          map.getContainer().classList.add("parsc-no-tiles");
        }
      });
    });
    return group;
  };

  // ---------------------------------------------------------------- page layout
  // Phones: panels folded to one line each. Narrow screens (< P.collapseWidth): layer list
  // behind its button. Then the map is fitted to its area in the room the open panels leave,
  // so that legends and title do not cover the data.
  P.compact = function () {
    if (!P.small()) { return; }
    var folds = document.querySelectorAll(
      "details.parsc-legends, details.parsc-title-details, details.parsc-period-note");
    for (var i = 0; i < folds.length; i++) { folds[i].removeAttribute("open"); }
  };
  P.panelRects = function (map) {
    var root = map.getContainer().getBoundingClientRect();
    var sel = [".parsc-title", ".parsc-legends", ".leaflet-control-layers", ".parsc-period",
               ".parsc-banner"];
    var out = [];
    sel.forEach(function (s) {
      var nodes = document.querySelectorAll(s);
      for (var i = 0; i < nodes.length; i++) {
        var r = nodes[i].getBoundingClientRect();
        if (r.width > 0 && r.height > 0) {
          out.push({sel: s, l: r.left - root.left, t: r.top - root.top,
                    r: r.right - root.left, b: r.bottom - root.top});
        }
      }
    });
    return out;
  };
  P.fitAround = function (map, bounds) {
    var size = map.getSize(), rects = P.panelRects(map);
    var left = 0, top = 0, right = 0, bottom = 0, leftTop = 0, rightTop = 0;
    rects.forEach(function (r) {
      if (r.sel === ".parsc-banner") { return; }
      if (r.l < size.x / 2) { left = Math.max(left, r.r); leftTop = Math.max(leftTop, r.b); }
      else if (r.t < size.y / 2 && r.sel !== ".parsc-legends") {
        right = Math.max(right, size.x - r.l); rightTop = Math.max(rightTop, r.b);
      } else { right = Math.max(right, size.x - r.l); bottom = Math.max(bottom, size.y - r.t); }
    });
    // each side panel either narrows the free box or lowers its top/bottom: keep the larger box
    var best = null;
    [[left, 0], [0, leftTop]].forEach(function (a) {
      [[right, 0, 0], [0, rightTop, bottom]].forEach(function (b) {
        var w = size.x - a[0] - b[0], h = size.y - Math.max(a[1], b[1]) - b[2];
        if (w > 120 && h > 120 && (best === null || w * h > best.area)) {
          best = {area: w * h, tl: [a[0] + 6, Math.max(a[1], b[1]) + 6], br: [b[0] + 6, b[2] + 6]};
        }
      });
    });
    if (best !== null) {
      map.fitBounds(bounds, {paddingTopLeft: best.tl, paddingBottomRight: best.br,
                             animate: false});
    }
    map.getContainer().setAttribute("data-parsc-layout", "1");
  };
  P.page = function (map, cfg) {
    P.maps = (P.maps || []).concat([map]);
    map.getContainer().setAttribute("data-parsc-period", "-1");
    P.compact();
    P.labelZoom(map, cfg.labelMinZoom);
    map.on("zoomend moveend", function () { P.declutterSoon(map); });
    // after every script of the page (layer control, legends) has run
    setTimeout(function () {
      if (cfg.fit) { P.fitAround(map, cfg.fit); }
      P.declutterSoon(map);
    }, 0);
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

  // ---------------------------------------------------------------- the atlas index map
  // Areas (provinces, comisarías) drawn from data; each links to its page. Hrefs are file
  // names written by parsc-geo (slugs); they are set as attributes, never parsed as HTML.
  P.overview = function (id, d) {
    var map = L.map(id, {zoomControl: true, minZoom: 4, maxZoom: 16});
    P.maps = (P.maps || []).concat([map]);
    var all = L.featureGroup().addTo(map);
    function link(href, text) {
      var a = P.el("a", text, "parsc-overview-link");
      a.setAttribute("href", href);
      return a;
    }
    function add(fc, style) {
      var layer = L.geoJSON(fc, {
        style: function () { return style; },
        onEachFeature: function (f, lyr) {
          var p = f.properties || {};
          // one tooltip per layer: Leaflet keeps the interactions of the first one bound
          if (p.label) {
            lyr.bindTooltip(P.el("span", p.label), {permanent: true, direction: "center",
              className: "parsc-overview-label", interactive: false});
          } else {
            lyr.bindTooltip(P.el("span", p.name + (p.n !== undefined ? ": " + P.fmt(p.n) +
                            " incidentes" : "")), {sticky: true});
          }
          lyr.bindPopup(function () {
            var box = P.el("div", null, "parsc-popup");
            box.appendChild(P.el("div", p.name, "parsc-popup-title"));
            if (p.n !== undefined) { box.appendChild(P.el("div", P.fmt(p.n) + " incidentes")); }
            if (p.href) { box.appendChild(link(p.href, "Abrir el mapa")); }
            return box;
          });
        }
      });
      layer.addTo(all);
      return layer;
    }
    if (d.provinces) {
      add(d.provinces, {color: "#222", weight: 1.5, fillColor: "#fdd49e", fillOpacity: 0.35});
    }
    if (d.comisarias) {
      add(d.comisarias, {color: "#3f007d", weight: 2, fillColor: "#807dba", fillOpacity: 0.45});
    }
    if (d.bounds) { map.fitBounds(d.bounds); } else if (all.getLayers().length) {
      map.fitBounds(all.getBounds());
    }
    L.control.scale({metric: true, imperial: false, position: "bottomleft"}).addTo(map);
    map.getContainer().setAttribute("data-parsc-ready", "1");
    return map;
  };

  window.parscGeo = P;
})();
