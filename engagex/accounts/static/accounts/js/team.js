// Team page: the invite dialog and the per-member role forms. Without JavaScript the
// "Invite teammate" link opens the invite form as its own page and every role form
// keeps its Save button, so everything still works.
(function () {
  "use strict";

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function") return false;
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener && openDialog(opener.getAttribute("data-dialog-open"))) {
      event.preventDefault();
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer && closer.closest("dialog")) {
      closer.closest("dialog").close();
      return;
    }
    // A click on the backdrop lands on the dialog element itself.
    if (event.target.tagName === "DIALOG" && event.target.classList.contains("team-modal")) {
      event.target.close();
    }
  });

  // Role forms: the Save button appears once the role differs from the current one.
  function syncRoleForm(form) {
    var select = form.querySelector("select");
    var save = form.querySelector("[data-role-save]");
    if (!select || !save) return;
    var initial = select.getAttribute("data-initial");
    if (initial === null) {
      initial = select.value;
      select.setAttribute("data-initial", initial);
    }
    save.hidden = select.value === initial;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-role-form]");
    if (form) syncRoleForm(form);
  });

  function start() {
    document.querySelectorAll("form[data-role-form]").forEach(syncRoleForm);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // The members table is swapped by htmx when searching, sorting and paging.
  document.addEventListener("htmx:afterSwap", start);
})();
