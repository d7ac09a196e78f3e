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
    // <button data-print>: print the page (the day sheet).
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });

  // Toasts sent back with an htmx swap (hx-swap-oob into #toasts).
  document.addEventListener("htmx:afterSettle", function () { showToasts(document); });
})();
