// The app's own confirm and reason dialogs (templates/_partials/confirm_dialog.html), in place
// of window.confirm() and window.prompt(). Bootstrap's modal traps focus and closes on Esc;
// focus goes back to the button that opened it.
//
//   <form data-confirm="Mark as a no-show?">                      a yes/no question
//   <button data-confirm="…" data-confirm-ok="No-show">           the confirm button's label
//   <form data-reason-dialog="Reason for cancelling" data-confirm="Cancel this appointment?">
//       asks for a required reason and puts it in the form's field named "reason"
//       (data-reason-field names another); data-reason-error is the message beside it.
//   htmx: hx-confirm="…" (and data-reason-dialog) on the element that sends the request; the
//       reason goes with the request as the "reason" parameter.
(function () {
  "use strict";

  var dialog = null;

  function parts() {
    if (dialog) { return dialog; }
    var root = document.getElementById("confirm-dialog");
    if (!root || !window.bootstrap) { return null; }
    dialog = {
      root: root,
      modal: bootstrap.Modal.getOrCreateInstance(root),
      form: document.getElementById("confirm-dialog-form"),
      title: document.getElementById("confirm-dialog-title"),
      question: document.getElementById("confirm-dialog-question"),
      field: document.getElementById("confirm-dialog-field"),
      label: document.getElementById("confirm-dialog-label"),
      input: document.getElementById("confirm-dialog-reason"),
      error: document.getElementById("confirm-dialog-error"),
      ok: document.getElementById("confirm-dialog-ok"),
      defaults: {
        title: document.getElementById("confirm-dialog-title").textContent,
        ok: document.getElementById("confirm-dialog-ok").textContent,
        error: document.getElementById("confirm-dialog-error").textContent
      },
      pending: null,
      opener: null
    };
    dialog.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var asking = dialog.pending;
      if (!asking) { return; }
      var reason = dialog.input.value.trim();
      if (asking.reason && !reason) {
        dialog.input.classList.add("is-invalid");
        dialog.input.setAttribute("aria-invalid", "true");
        dialog.error.hidden = false;
        dialog.input.focus();
        return;
      }
      dialog.pending = null;
      dialog.modal.hide();
      asking.confirmed(reason);
    });
    dialog.input.addEventListener("input", function () {
      dialog.input.classList.remove("is-invalid");
      dialog.input.removeAttribute("aria-invalid");
      dialog.error.hidden = true;
    });
    root.addEventListener("shown.bs.modal", function () {
      (dialog.pending && dialog.pending.reason ? dialog.input : dialog.ok).focus();
    });
    root.addEventListener("hidden.bs.modal", function () {
      dialog.pending = null;
      if (dialog.opener && document.contains(dialog.opener)) { dialog.opener.focus(); }
      dialog.opener = null;
    });
    return dialog;
  }

  // Ask; call confirmed(reason) when the person confirms. False when there is no dialog.
  function ask(source, question, confirmed) {
    var d = parts();
    if (!d) { return false; }
    var reasonLabel = source.getAttribute("data-reason-dialog");
    d.title.textContent = source.getAttribute("data-confirm-title") || d.defaults.title;
    d.question.textContent = question || "";
    d.ok.textContent = source.getAttribute("data-confirm-ok") || d.defaults.ok;
    d.ok.className = "btn " + (source.hasAttribute("data-confirm-danger") ? "btn-danger" : "btn-primary");
    d.field.hidden = !reasonLabel;
    d.input.required = !!reasonLabel;
    d.input.value = "";
    d.input.classList.remove("is-invalid");
    d.input.removeAttribute("aria-invalid");
    d.error.hidden = true;
    d.label.textContent = reasonLabel || "";
    d.error.textContent = source.getAttribute("data-reason-error") || d.defaults.error;
    d.pending = { reason: !!reasonLabel, confirmed: confirmed };
    d.opener = document.activeElement;
    d.modal.show();
    return true;
  }

  // Forms (a normal POST): ask first, then submit again with the same button.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "confirm-dialog-form") { return; }
    var submitter = event.submitter || null;
    var source = (submitter && submitter.closest("[data-confirm], [data-reason-dialog]")) ||
      form.closest("[data-confirm], [data-reason-dialog]");
    if (!source) { return; }
    if (form.dataset.dialogConfirmed === "yes") {
      delete form.dataset.dialogConfirmed;
      return;
    }
    var asked = ask(source, source.getAttribute("data-confirm"), function (reason) {
      if (source.hasAttribute("data-reason-dialog")) {
        var name = source.getAttribute("data-reason-field") || "reason";
        var input = form.elements.namedItem(name);
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          form.appendChild(input);
        }
        input.value = reason;
      }
      form.dataset.dialogConfirmed = "yes";
      if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
    });
    if (asked) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx requests: the same dialog, then the request goes ahead (with the reason, if asked).
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var question = event.detail.question;
    if (!question && !elt.hasAttribute("data-reason-dialog")) { return; }
    var asked = ask(elt, question, function (reason) {
      if (elt.hasAttribute("data-reason-dialog")) { elt.dialogReason = reason; }
      event.detail.issueRequest(true);
    });
    if (asked) { event.preventDefault(); }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.dialogReason !== undefined) {
      event.detail.parameters[elt.getAttribute("data-reason-field") || "reason"] = elt.dialogReason;
      delete elt.dialogReason;
    }
  });

  // A reason field shown without JavaScript gives way to the dialog, unless it carries an error.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-reason-fallback]").forEach(function (el) {
      if (!el.querySelector(".is-invalid")) { el.hidden = true; }
    });
  });
})();
