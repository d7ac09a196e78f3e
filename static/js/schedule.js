// The day schedule (front desk): click a free slot to book it; drag a card to a free slot to
// move it. No inline script: the CSP allows only this origin. The server answers a drop with
// the grid again (moved, or as it was when the move is refused: the card snaps back), a toast
// in the live region saying why, and the status counters out of band.
(function () {
  "use strict";

  var PLACEHOLDER_PK = "2147483647";
  var dragged = null;

  function grid() {
    return document.getElementById("schedule-grid");
  }

  function freeCell(target) {
    var root = grid();
    var cell = target && target.closest ? target.closest("td.schedule-free") : null;
    return cell && root && root.contains(cell) ? cell : null;
  }

  // The slot's time comes from its row, its column (a practitioner or a room) from the cell.
  function slotValues(root, cell) {
    var values = { date: root.dataset.date, time: cell.closest("tr").dataset.time };
    values[root.dataset.by === "room" ? "room" : "practitioner"] = cell.dataset.col;
    return values;
  }

  function clearTargets() {
    document.querySelectorAll("td.schedule-drop-target").forEach(function (cell) {
      cell.classList.remove("schedule-drop-target");
    });
  }

  document.addEventListener("click", function (event) {
    var cell = freeCell(event.target);
    if (!cell) {
      return;
    }
    var root = grid();
    var params = new URLSearchParams(slotValues(root, cell));
    window.location.assign(root.dataset.bookUrl + "?" + params.toString());
  });

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".appointment-card[draggable='true']") : null;
    if (!card || !grid()) {
      return;
    }
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.pk);
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("is-dragging");
    }
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var cell = dragged ? freeCell(event.target) : null;
    if (!cell) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("schedule-drop-target")) {
      clearTargets();
      cell.classList.add("schedule-drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = dragged ? freeCell(event.target) : null;
    if (!cell) {
      return;
    }
    event.preventDefault();
    var root = grid();
    var values = slotValues(root, cell);
    values.by = root.dataset.by;
    values.cols = root.dataset.cols;
    values.next = window.location.pathname + window.location.search;
    var url = root.dataset.dropUrl.replace(PLACEHOLDER_PK, dragged.dataset.pk);
    dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
    htmx.ajax("POST", url, { source: root, target: "#schedule-grid", swap: "outerHTML", values: values });
  });
})();
