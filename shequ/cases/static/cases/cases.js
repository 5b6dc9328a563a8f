/* Case pages: the phone's location, picking a spot on the map, the case's map. No inline
   scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function tiles(map, el) {
    if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }

  function setLocation(lat, lng) {
    var latInput = document.getElementById("id_lat");
    var lngInput = document.getElementById("id_lng");
    if (!latInput || !lngInput) return;
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    var text = document.querySelector("[data-location-text]");
    if (text) text.textContent = lat.toFixed(5) + ", " + lng.toFixed(5);
    document.body.dispatchEvent(new Event("located"));
    if (window.__casePick) window.__casePick(lat, lng);
  }

  function initPickMap(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var map = L.map(el, { attributionControl: false });
    tiles(map, el);
    var lat = parseFloat((document.getElementById("id_lat") || {}).value);
    var lng = parseFloat((document.getElementById("id_lng") || {}).value);
    var marker = null;
    function place(a, b) {
      if (marker) marker.setLatLng([a, b]);
      else marker = L.circleMarker([a, b], { radius: 9, color: "#d63939", fillOpacity: 0.6 }).addTo(map);
      map.setView([a, b], Math.max(map.getZoom() || 16, 16));
    }
    window.__casePick = place;
    if (!isNaN(lat) && !isNaN(lng)) place(lat, lng);
    else map.setView([parseFloat(el.dataset.lat || "30.27"), parseFloat(el.dataset.lng || "120.2")], 13);
    map.on("click", function (e) { setLocation(e.latlng.lat, e.latlng.lng); });
  }

  function initCaseMap(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    var map = L.map(el, { attributionControl: false }).setView([lat, lng], 17);
    tiles(map, el);
    L.circleMarker([lat, lng], { radius: 10, color: "#d63939", fillOpacity: 0.6 }).addTo(map);
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-locate]");
    if (!btn) return;
    var text = document.querySelector("[data-location-text]");
    if (!navigator.geolocation) { if (text) text.textContent = btn.dataset.failed; return; }
    if (text) text.textContent = btn.dataset.busy;
    navigator.geolocation.getCurrentPosition(
      function (pos) { setLocation(pos.coords.latitude, pos.coords.longitude); },
      function () { if (text) text.textContent = btn.dataset.failed; },
      { enableHighAccuracy: true, timeout: 15000 }
    );
  });

  function init(root) {
    root.querySelectorAll(".case-pick-map").forEach(initPickMap);
    root.querySelectorAll(".case-map").forEach(initCaseMap);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
