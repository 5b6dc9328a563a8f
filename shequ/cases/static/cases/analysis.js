/* Case analysis: the trend chart and the hotspot map. Data comes from json_script tags;
   no inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function data(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function initTrend(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    var d = data(el.dataset.trend);
    if (!d) return;
    el.dataset.ready = "1";
    var chart = echarts.init(el, null, { renderer: "svg" });
    var kinds = { reported: "line", resolved: "line", closed: "bar" };
    chart.setOption({
      color: ["#206bc4", "#2fb344", "#adb5bd"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: d.labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s) {
        var key = "label" + s.key.charAt(0).toUpperCase() + s.key.slice(1);
        return {
          name: el.dataset[key] || s.key,
          type: kinds[s.key] || "line",
          data: s.data,
          showSymbol: d.labels.length <= 31,
          barMaxWidth: 18,
          z: s.key === "closed" ? 1 : 2
        };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function initMap(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    var d = data(el.dataset.cells);
    if (!d) return;
    el.dataset.ready = "1";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var half = d.cell / 2;
    var max = d.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    var cells = L.featureGroup();
    d.cells.forEach(function (c) {
      var share = c[2] / max;
      // The cell itself, shaded by its count, and a dot sized by it so small cells still show.
      L.rectangle([[c[0] - half, c[1] - half], [c[0] + half, c[1] + half]], {
        weight: 0, fillColor: "#d63939", fillOpacity: 0.15 + 0.55 * share
      }).addTo(cells);
      L.circleMarker([c[0], c[1]], {
        radius: 5 + 13 * Math.sqrt(share), color: "#d63939", weight: 1.5, fillColor: "#d63939", fillOpacity: 0.35
      }).bindTooltip(String(c[2]) + " " + (el.dataset.label || ""), { direction: "top" }).addTo(cells);
    });
    cells.addTo(map);
    function fit(layer) {
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 17 });
    }
    if (d.cells.length) fit(cells);
    else map.setView([30.27, 120.2], 12);
    if (el.dataset.geojson) {
      fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (geo) {
          var outline = L.geoJSON(geo, {
            interactive: false,
            style: function () { return { color: "#206bc4", weight: 1, fillOpacity: 0.03 }; }
          }).addTo(map);
          outline.bringToBack();
          if (!d.cells.length) fit(outline);
        })
        .catch(function () { /* boundaries are context only */ });
    }
  }

  function init(root) {
    root.querySelectorAll("[data-trend]").forEach(initTrend);
    root.querySelectorAll(".analysis-map").forEach(initMap);
  }

  // Typing a date means a period of one's own.
  document.addEventListener("change", function (e) {
    if (!e.target.matches || !e.target.matches("[data-custom-period]")) return;
    var period = document.getElementById("analysis-period");
    if (period) period.value = "custom";
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
