// The investor vacancy map: filters and map view live in the URL; the list beside the map shows
// the same buildings; everything from the server is inserted as text, never as HTML.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var L_ = config.labels;
  var map = window[config.map];
  var form = document.getElementById("filters");
  var list = document.getElementById("results");
  var count = document.getElementById("count");
  var details = document.getElementById("details");
  var COLORS = { fully_vacant: "#2e9e5b", partly_vacant: "#e8871e", fully_let: "#8a96a3", under_construction: "#8e59c2" };
  var FILTERS = ["park", "min_area", "max_area", "min_load", "min_height", "min_power", "max_rent", "type",
                 "industry", "available_by", "ground_floor", "crane", "only_available"];
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  var shapes = L.featureGroup().addTo(map);
  var points = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 }).addTo(map);
  var clusters = L.featureGroup().addTo(map);
  var byId = {};
  var listed = {};
  var request = 0;
  var state = { features: [], loaded: 0 };
  window.vacancyMap = { map: map, state: state, byId: byId };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmt(n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString("zh-CN", { maximumFractionDigits: 0 }); }

  // --- URL state ---------------------------------------------------------------------------
  function readUrl() {
    var p = new URLSearchParams(location.search);
    FILTERS.forEach(function (name) {
      var input = form.elements[name];
      if (!input) { return; }
      if (input.type === "checkbox") { input.checked = p.get(name) === "1"; }
      else { input.value = p.get(name) || ""; }
    });
    if (p.get("lat") && p.get("lng") && p.get("z")) {
      map.setView([parseFloat(p.get("lat")), parseFloat(p.get("lng"))], parseFloat(p.get("z")), { animate: false });
      return true;
    }
    return false;
  }
  function filterParams() {
    var p = new URLSearchParams();
    FILTERS.forEach(function (name) {
      var input = form.elements[name];
      if (!input) { return; }
      if (input.type === "checkbox") { if (input.checked) { p.set(name, "1"); } }
      else if (input.value) { p.set(name, input.value); }
    });
    return p;
  }
  function writeUrl() {
    var p = filterParams();
    var c = map.getCenter();
    p.set("lat", c.lat.toFixed(5)); p.set("lng", c.lng.toFixed(5)); p.set("z", String(map.getZoom()));
    if (details.dataset.building) { p.set("b", details.dataset.building); }
    history.replaceState(null, "", location.pathname + "?" + p.toString());
  }

  // --- data --------------------------------------------------------------------------------
  // The registry's plots (宗地) as thin edges from zoom 14: where the land is, without a basemap.
  // The OGC API answers in CGCS2000/WGS84, so they are drawn only when the map is not shifted.
  var plots = L.geoJSON(null, { interactive: false, style: { color: "#7b8794", weight: 1, dashArray: "3 3", fill: false, className: "plot-edge" } }).addTo(map);
  function loadPlots() {
    plots.clearLayers();
    if (config.datum !== "wgs84" || map.getZoom() < 14) { return; }
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(",");
    fetch("/ogc/collections/plots/items?f=json&limit=1000&bbox=" + bbox, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) { if (fc && fc.features) { plots.addData(fc); plots.bringToBack(); } });
  }

  function load() {
    loadPlots();
    var p = filterParams();
    var b = map.getBounds();
    p.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(","));
    p.set("zoom", String(Math.round(map.getZoom())));
    p.set("datum", config.datum);
    p.set("limit", "1000");
    p.set("list", "30");  // zoomed out: the thirty buildings with most space, for the list
    var mine = ++request;
    writeUrl();
    fetch("/api/buildings?" + p.toString(), { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== request) { return; }
        if (data.errors) { count.textContent = data.errors.map(function (e) { return e.field + ": " + e.message; }).join("; "); return; }
        draw(data);
      });
  }

  function draw(data) {
    shapes.clearLayers(); points.clearLayers(); clusters.clearLayers();
    Object.keys(byId).forEach(function (k) { delete byId[k]; });
    state.features = data.features;
    data.features.forEach(function (f) {
      var props = f.properties;
      if (props.cluster) {
        var size = 24 + Math.min(36, Math.log2(props.count + 1) * 6);
        var m = L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
          icon: L.divIcon({ className: "server-cluster", html: "", iconSize: [size, size] })
        });
        m.on("add", function () { m.getElement().textContent = String(props.count); });
        m.on("click", function () { map.setView(m.getLatLng(), map.getZoom() + 3); });
        clusters.addLayer(m);
        return;
      }
      var color = COLORS[props.availability];
      var layer;
      if (f.geometry.type === "Point") {
        layer = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]],
                               { radius: 7, color: "#fff", weight: 1, fillColor: color, fillOpacity: 0.95 });
        points.addLayer(layer);
      } else {
        layer = L.geoJSON(f, { style: { color: color, weight: 1.5, fillColor: color, fillOpacity: 0.55 } });
        layer.eachLayer(function (l) { l.options.className = "b-" + props.availability; });
        shapes.addLayer(layer);
      }
      layer.on("click", function () { show(props.id); });
      byId[props.id] = layer;
    });
    state.loaded += 1;
    renderList(data);
  }

  function renderList(data) {
    list.replaceChildren();
    var n = data.numberMatched;
    count.textContent = L_.matched + " " + n + " " + L_.buildings + (data.clustered ? "" : "（" + data.numberReturned + "）");
    if (!n) {
      // Nothing matches: say which conditions are set, so the investor knows what to loosen.
      var set = FILTERS.filter(function (name) {
        var input = form.elements[name];
        return input && (input.type === "checkbox" ? input.checked : input.value);
      }).map(function (name) { return (form.elements[name].closest("label").textContent || name).trim(); });
      count.textContent = set.length ? L_.nothing_filters + set.join("、") : L_.nothing_here;
    }
    (data.clustered ? (data.list || []) : data.features).forEach(function (f) {
      var p = f.properties;
      if (p.cluster) { return; }
      listed[p.id] = f;
      var li = el("li", "result a-" + p.availability);
      li.dataset.id = p.id;
      li.tabIndex = 0;
      li.appendChild(el("b", "", p.name || p.code));
      li.appendChild(el("span", "park", p.park));
      li.appendChild(el("span", "badge", L_[p.availability]));
      var line = L_.available + " " + fmt(p.available_m2) + " ㎡";
      if (p.available_from) { line += " · " + L_.from + " " + p.available_from; }
      if (p.asking_rent !== null && p.asking_rent !== undefined) { line += " · " + p.asking_rent + " 元/㎡·月"; }
      li.appendChild(el("span", "line", line));
      li.addEventListener("click", function () { fly(p.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") { fly(p.id); } });
      list.appendChild(li);
    });
  }

  function fly(id) {
    var layer = byId[id];
    if (!layer) {  // listed while zoomed out: go to it, then show it
      var f = listed[id];
      if (f && f.geometry && f.geometry.type === "Point") {
        map.flyTo([f.geometry.coordinates[1], f.geometry.coordinates[0]], 17, { duration: 0.6 });
        show(id);
      }
      return;
    }
    if (layer.getBounds) { map.flyToBounds(layer.getBounds(), { maxZoom: 18, duration: 0.6 }); }
    else { map.flyTo(layer.getLatLng(), 17, { duration: 0.6 }); }
    show(id);
  }

  // --- details -----------------------------------------------------------------------------
  function show(id) {
    // The card shows the units that fit the filters (the API marks them when it is given them).
    var asked = new URLSearchParams();
    ["min_area", "max_area", "min_load", "min_height", "ground_floor", "available_by"].forEach(function (name) {
      var value = filterParams().get(name);
      if (value) { asked.set(name, value); }
    });
    fetch("/api/buildings/" + id + "?" + asked.toString(), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (c) {
      details.replaceChildren();
      details.dataset.building = String(id);
      var close = el("button", "close", "×");
      close.setAttribute("aria-label", L_.close);
      close.addEventListener("click", function () { details.hidden = true; delete details.dataset.building; writeUrl(); });
      details.appendChild(close);
      details.appendChild(el("h2", "", c.name || c.code));
      details.appendChild(el("p", "sub", c.park.name + " · " + c.type_label + " · " + c.status_label));
      if (c.photo) { var img = el("img", "photo"); img.src = "/photos/" + encodeURIComponent(c.photo); img.alt = c.name || c.code; details.appendChild(img); }
      var specs = el("ul", "specs");
      [[L_.storeys, c.floors], [L_.gfa, fmt(c.gfa_m2) + " ㎡"], [L_.power, c.power_kva ? c.power_kva + " kVA" : null],
       [L_.crane, c.crane_t ? c.crane_t + " t" : null],
       [L_.rent, c.asking_rent !== null && c.asking_rent !== undefined ? c.asking_rent + " 元/㎡·月" : L_.hidden],
       [L_.verified, c.last_verified]].forEach(function (pair) {
        if (pair[1] === null || pair[1] === undefined) { return; }
        specs.appendChild(el("li", "", pair[0] + "：" + pair[1]));
      });
      details.appendChild(specs);
      var table = el("table", "units");
      var head = el("tr");
      [L_.floor, "#", L_.area, L_.height, L_.load, L_.from].concat(config.staff ? [L_.status, L_.tenant] : []).forEach(function (h) { head.appendChild(el("th", "", h)); });
      table.appendChild(head);
      var unfit = 0;
      c.units.forEach(function (u) {
        if (!config.staff && ["vacant", "expiring", "reserved"].indexOf(u.status) < 0) { return; }
        if (u.fits === false && !(config.staff && ["vacant", "expiring", "reserved"].indexOf(u.status) < 0)) { unfit += 1; return; }
        var tr = el("tr");
        [u.floor + "F", u.code, fmt(u.area_m2) + " ㎡", u.storey_height_m ? u.storey_height_m + " m" : "—",
         u.floor_load_t_m2 ? u.floor_load_t_m2 + " t/㎡" : "—", u.available_from || "—"]
          .concat(config.staff ? [u.status_label, u.tenant || u.prospect || ""] : [])
          .forEach(function (v) { tr.appendChild(el("td", "", v)); });
        table.appendChild(tr);
      });
      if (c.units.length) { details.appendChild(table); } else { details.appendChild(el("p", "", L_.none)); }
      if (unfit) { details.appendChild(el("p", "sub", L_.unfit.replace("{n}", unfit))); }
      if (c.park.contact || c.park.phone) {
        details.appendChild(el("p", "contact", L_.contact + "：" + [c.park.operator, c.park.contact, c.park.phone].filter(Boolean).join(" · ")));
      }
      var a = el("a", "button brochure", L_.brochure);
      a.href = "/buildings/" + id + "/brochure";
      a.target = "_blank";
      details.appendChild(a);
      details.hidden = false;
      writeUrl();
    });
  }

  // --- wiring ------------------------------------------------------------------------------
  fetch("/api/parks?datum=" + config.datum).then(function (r) { return r.json(); }).then(function (fc) {
    var base = L.geoJSON(fc, {
      interactive: false, style: { color: "#1d6fa5", weight: 2, fill: true, fillOpacity: 0.04 },
      // Each park's name at its middle: orientation without a basemap.
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "park-label" });
      }
    });
    base.addTo(map).bringToBack();
    // Choosing a park in the filter flies to it.
    form.elements.park.addEventListener("change", function () {
      var chosen = null;
      base.eachLayer(function (l) { if (String(l.feature.id) === form.elements.park.value) { chosen = l; } });
      if (chosen) { map.flyToBounds(chosen.getBounds(), { padding: [20, 20], duration: 0.6 }); }
      else if (!form.elements.park.value && fc.features.length) { map.flyToBounds(base.getBounds(), { padding: [20, 20], duration: 0.6 }); }
    });
    if (!restored && fc.features.length) { map.fitBounds(base.getBounds(), { padding: [20, 20] }); }
    load();
    map.on("moveend", load);
    if (selected) { show(parseInt(selected, 10)); }
  });
  // Read before the first load rewrites the URL.
  var selected = new URLSearchParams(location.search).get("b");
  var restored = readUrl();
  form.addEventListener("change", load);
  form.addEventListener("input", function (e) { if (e.target.tagName === "INPUT" && e.target.type !== "checkbox") { clearTimeout(form._t); form._t = setTimeout(load, 400); } });
  form.addEventListener("reset", function () { setTimeout(load, 0); });
})();
