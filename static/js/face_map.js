// The face map: SVG zones link to rows of the lesion-count table (the real form).
// This script colours each zone by its most severe lesion, shows its total, and moves
// focus to the zone's first input when a zone is chosen. Without it the links still
// jump to the table rows, so the form works fully from the table alone.
(function () {
  "use strict";

  function zoneState(inputs) {
    var total = 0;
    var level = 0;
    inputs.forEach(function (input) {
      var value = parseInt(input.value, 10);
      if (value > 0) {
        total += value;
        level = Math.max(level, parseInt(input.getAttribute("data-score") || "0", 10));
      }
    });
    return { total: total, level: level };
  }

  function setUp(root) {
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input.lesion-count"));
    var zones = root.querySelectorAll(".face-zone[data-zone]");

    function refresh() {
      zones.forEach(function (zoneLink) {
        var zone = zoneLink.getAttribute("data-zone");
        var state = zoneState(inputs.filter(function (i) { return i.getAttribute("data-zone") === zone; }));
        zoneLink.setAttribute("data-level", String(state.level));
        var totalText = zoneLink.querySelector(".zone-total");
        if (totalText) { totalText.textContent = state.total > 0 ? String(state.total) : ""; }
        var row = root.querySelector('.face-map-row[data-zone="' + zone + '"]');
        if (row) { row.setAttribute("data-level", String(state.level)); }
      });
    }

    zones.forEach(function (zoneLink) {
      zoneLink.addEventListener("click", function (event) {
        var zone = zoneLink.getAttribute("data-zone");
        var row = root.querySelector('.face-map-row[data-zone="' + zone + '"]');
        if (!row) { return; }
        event.preventDefault();
        root.querySelectorAll(".face-map-row.is-active").forEach(function (r) { r.classList.remove("is-active"); });
        row.classList.add("is-active");
        var first = row.querySelector("input.lesion-count");
        row.scrollIntoView({ block: "nearest" });
        if (first) { first.focus(); first.select(); }
      });
    });

    root.addEventListener("input", function (event) {
      if (event.target.matches && event.target.matches("input.lesion-count")) { refresh(); }
    });
    root.addEventListener("focusin", function (event) {
      var row = event.target.closest && event.target.closest(".face-map-row");
      if (!row) { return; }
      root.querySelectorAll(".face-map-row.is-active").forEach(function (r) {
        if (r !== row) { r.classList.remove("is-active"); }
      });
      row.classList.add("is-active");
      var zoneLink = root.querySelector('.face-zone[data-zone="' + row.getAttribute("data-zone") + '"]');
      root.querySelectorAll(".face-zone.is-active").forEach(function (z) { z.classList.remove("is-active"); });
      if (zoneLink) { zoneLink.classList.add("is-active"); }
    });
    refresh();
  }

  function setUpAll(scope) {
    scope.querySelectorAll("[data-face-map]:not([data-face-map-ready])").forEach(function (root) {
      root.setAttribute("data-face-map-ready", "");
      setUp(root);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { setUpAll(event.target); });
})();
