// The idle warning: a minute before the server signs an idle session out
// (clinic.accounts.middleware.IdleTimeoutMiddleware), say so and offer "Stay signed in".
// The server enforces the timeout; this only warns, and reloads once the time is up so the
// page stops showing patient data.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout"), 10);
    var warning = parseInt(body.getAttribute("data-idle-warning"), 10);
    var keepAliveUrl = body.getAttribute("data-keep-alive-url");
    var dialogEl = document.getElementById("idle-dialog");
    if (!timeout || !keepAliveUrl || !dialogEl) {
      return;
    }
    var dialog = bootstrap.Modal.getOrCreateInstance(dialogEl);
    var warnTimer = null;
    var endTimer = null;

    function csrfToken() {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }

    function schedule() {
      window.clearTimeout(warnTimer);
      window.clearTimeout(endTimer);
      warnTimer = window.setTimeout(function () {
        dialog.show();
      }, Math.max(0, timeout - warning) * 1000);
      // A second after the server's deadline, so the reload finds the session ended.
      endTimer = window.setTimeout(function () {
        window.location.reload();
      }, (timeout + 1) * 1000);
    }

    dialogEl.addEventListener("shown.bs.modal", function () {
      dialogEl.querySelector("[data-idle-stay]").focus();
    });
    dialogEl.querySelector("[data-idle-stay]").addEventListener("click", function () {
      fetch(keepAliveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
      }).then(function (response) {
        if (response.ok) {
          dialog.hide();
          schedule();
        } else {
          window.location.reload();
        }
      });
    });
    // Work done through htmx counts as activity on the server; restart the clock here too.
    document.addEventListener("htmx:afterRequest", schedule);
    schedule();
  });
})();
