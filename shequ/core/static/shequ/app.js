/* shequ page behaviour: maps, charts and the area tree. No inline scripts (CSP). */
(function () {
  "use strict";

  function initMap(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var map = L.map(el, { zoomControl: true, zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var palette = ["#206bc4", "#2fb344", "#f76707", "#ae3ec9", "#0ca678", "#d63939", "#4263eb", "#f59f00"];
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var i = 0;
        var layer = L.geoJSON(data, {
          style: function (f) {
            var c = palette[i++ % palette.length];
            var vacant = f.properties.level === "grid" && f.properties.workers.length === 0;
            return { color: vacant ? "#d63939" : c, weight: vacant ? 2.5 : 1.5, dashArray: vacant ? "4 4" : null, fillColor: c, fillOpacity: 0.18 };
          },
          onEachFeature: function (f, l) {
            var p = f.properties;
            var who = p.workers.length ? p.workers.join("、") : (el.dataset.vacant || "—");
            var box = document.createElement("div");
            var title = document.createElement("strong");
            title.textContent = p.name;
            var code = document.createElement("div");
            code.className = "text-secondary small";
            code.textContent = p.code;
            var workers = document.createElement("div");
            workers.textContent = who;
            box.append(title, code, workers);
            l.bindPopup(box);
            l.bindTooltip(p.name, { sticky: true });
          }
        }).addTo(map);
        if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [16, 16] });
        else map.setView([30.27, 120.2], 12);
      })
      .catch(function () { el.classList.add("map-failed"); });
  }

  function initChart(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    var source = document.getElementById(el.dataset.chart);
    if (!source) return;
    el.dataset.ready = "1";
    var d = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: ["#206bc4", "#2fb344", "#f76707"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: d.labels, axisLabel: { interval: 0, rotate: d.labels.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s) {
        var key = "label" + s.key.charAt(0).toUpperCase() + s.key.slice(1);
        return { name: el.dataset[key], type: "bar", data: s.data, barMaxWidth: 28, label: { show: true, position: "top" } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init(root) {
    root.querySelectorAll(".area-map").forEach(initMap);
    root.querySelectorAll("[data-chart]").forEach(initChart);
  }

  document.addEventListener("click", function (e) {
    var toggle = e.target.closest(".area-toggle");
    if (!toggle) return;
    var node = toggle.closest(".area-node");
    if (node.classList.contains("loaded")) node.classList.toggle("open");
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var node = e.target.closest && e.target.closest(".area-node");
    if (node && e.target.classList.contains("area-children")) node.classList.add("loaded", "open");
    init(e.target);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
