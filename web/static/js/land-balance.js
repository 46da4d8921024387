// The park's unsupplied, idle and low-efficiency plots on an offline map (no basemap tiles needed).
(function () {
  "use strict";
  var el = document.getElementById("land-map");
  var data = document.getElementById("land-geojson");
  if (!el || !data || !window.L) { return; }
  var colours = { unsupplied: "#9aa5b1", idle: "#e0b03c", low_efficiency: "#c8553d" };
  var geojson = JSON.parse(data.textContent);
  var map = L.map(el, { maxZoom: 20 });
  var layer = L.geoJSON(geojson, {
    style: function (f) { return { color: colours[f.properties.category] || "#555", weight: 1.5, fillOpacity: 0.45 }; },
    onEachFeature: function (f, l) {
      var p = f.properties, div = document.createElement("div");
      div.textContent = p.label + " " + p.code + "（" + p.area_mu + " 亩）" + (p.holder ? " " + p.holder : "");
      l.bindPopup(div);
    }
  }).addTo(map);
  if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [12, 12] }); }
  else { map.setView([35, 105], 4); }
})();
