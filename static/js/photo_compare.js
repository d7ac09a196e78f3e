/* Clinical photos: the before/after wipe and the markers on a photo. Plain JavaScript, no
 * library, loaded from static/ (the CSP allows only same-origin scripts, no inline code).
 *
 * The wipe is an <input type=range> (keyboard: arrows, Page Up/Down, Home/End) that clips
 * the later photo, stacked over the baseline, from the left. Markers are placed from their
 * data-x / data-y (per mille of the photo) here, because the CSP forbids inline styles. */
(function () {
  "use strict";

  function setupWipe(control) {
    var section = control.closest(".card-body") || document;
    var after = section.querySelector("[data-wipe-after]");
    if (!after) {
      return;
    }
    function apply() {
      var shown = Number(control.value);
      after.style.clipPath = "inset(0 0 0 " + shown + "%)";
      control.setAttribute("aria-valuetext", shown + "% baseline, " + (100 - shown) + "% later");
    }
    control.addEventListener("input", apply);
    apply();
  }

  function placeMarkers(figure) {
    figure.querySelectorAll(".photo-marker").forEach(function (marker) {
      marker.style.left = Number(marker.dataset.x) / 10 + "%";
      marker.style.top = Number(marker.dataset.y) / 10 + "%";
    });
    var form = document.querySelector(figure.dataset.markerTarget || "");
    var image = figure.querySelector("img");
    if (!form || !image) {
      return;
    }
    image.addEventListener("click", function (event) {
      var box = image.getBoundingClientRect();
      var x = Math.round(((event.clientX - box.left) / box.width) * 1000);
      var y = Math.round(((event.clientY - box.top) / box.height) * 1000);
      form.querySelector("[name=x]").value = Math.min(1000, Math.max(0, x));
      form.querySelector("[name=y]").value = Math.min(1000, Math.max(0, y));
      form.querySelector("[name=zone]").focus();
    });
  }

  document.querySelectorAll("[data-wipe-control]").forEach(setupWipe);
  document.querySelectorAll(".photo-marked").forEach(placeMarkers);
})();
