// Campaign report: the "Resend to non-openers" dialog. Without JavaScript the button
// opens the same form as its own page, so everything still works.
(function () {
  "use strict";

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function") return false;
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) {
      first.focus();
      if (typeof first.select === "function") first.select();
    }
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
    if (event.target.tagName === "DIALOG" && event.target.classList.contains("report-modal")) {
      event.target.close();
    }
  });
})();
