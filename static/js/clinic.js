// Behaviour shared by every page. No inline scripts: the CSP allows only this origin.
(function () {
  "use strict";

  function showToasts(root) {
    root.querySelectorAll(".toast:not(.showing):not(.show)").forEach(function (el) {
      bootstrap.Toast.getOrCreateInstance(el).show();
    });
  }

  // Destructive actions ask first (data-confirm, hx-confirm): static/js/dialogs.js.

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document);
    // The location switcher submits on change; its button stays for keyboard users without JS.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
    document.querySelectorAll(".js-hidden").forEach(function (el) { el.classList.add("visually-hidden"); });
    // <button data-copy-target="input-id">: copy that field's text, and say so (role=status).
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy-target"));
        var status = (button.closest("[data-field-group]") || document).querySelector("[data-copy-status]");
        if (!field) { return; }
        function done() { if (status) { status.textContent = button.getAttribute("data-copied-text"); } }
        function fallback() {
          field.focus();
          field.select();
          if (document.execCommand("copy")) { done(); }
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
    // <button data-print>: print the page (the day sheet).
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });

  // Toasts sent back with an htmx swap (hx-swap-oob into #toasts).
  document.addEventListener("htmx:afterSettle", function () { showToasts(document); });
})();
