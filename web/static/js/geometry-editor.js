// Draw or edit one area (park boundary, plot, building footprint) on an offline map.
// No basemap tiles are needed: the park's boundary, plots and buildings are drawn as context.
// The result is written as GeoJSON (CGCS2000 lon/lat) into the form's textarea.
(function () {
  "use strict";
  var el = document.getElementById("geom-map");
  if (!el || !window.L) { return; }
  var field = document.getElementById(el.dataset.field);
  var context = JSON.parse(document.getElementById("geom-context").textContent);
  var map = L.map(el, { maxZoom: 22, zoomSnap: 0.25 });
  var styles = {
    park: { color: "#1d6fa5", weight: 2, fill: false },
    plot: { color: "#9aa5b1", weight: 1, fillOpacity: 0.05 },
    building: { color: "#616e7c", weight: 1, fillOpacity: 0.25 }
  };
  var contextLayer = L.geoJSON(context, {
    interactive: false,
    style: function (f) { return styles[f.properties.role] || styles.plot; }
  }).addTo(map);
  var drawn = new L.FeatureGroup().addTo(map);

  function load() {
    drawn.clearLayers();
    if (!field.value.trim()) { return; }
    try {
      L.geoJSON(JSON.parse(field.value), { style: { color: "#e8871e", weight: 2 } }).eachLayer(function (layer) {
        // leaflet-draw edits plain polygons: split multi-polygons into their parts.
        if (layer instanceof L.Polygon) { drawn.addLayer(layer); }
      });
    } catch (e) { /* WKT or unfinished text: the server reads it */ }
  }

  function save() {
    var features = drawn.toGeoJSON().features;
    if (!features.length) { field.value = ""; return; }
    if (features.length === 1) { field.value = JSON.stringify(features[0].geometry); return; }
    field.value = JSON.stringify({ type: "MultiPolygon", coordinates: features.map(function (f) {
      return f.geometry.type === "Polygon" ? f.geometry.coordinates : f.geometry.coordinates[0];
    }) });
  }

  load();
  var bounds = drawn.getLayers().length ? drawn.getBounds() : contextLayer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20] }); } else { map.setView([34, 108], 5); }
  L.control.scale({ imperial: false }).addTo(map);
  map.addControl(new L.Control.Draw({
    edit: { featureGroup: drawn },
    draw: { polygon: { allowIntersection: false, showArea: true, metric: true }, rectangle: { showArea: true },
            polyline: false, circle: false, marker: false, circlemarker: false }
  }));
  map.on(L.Draw.Event.CREATED, function (e) {
    if (!e.layer.getLatLngs) { return; }
    drawn.addLayer(e.layer);
    save();
  });
  map.on(L.Draw.Event.EDITED, save);
  map.on(L.Draw.Event.DELETED, save);
  field.addEventListener("change", load);
  window.geometryEditor = { map: map, drawn: drawn, save: save };
})();
