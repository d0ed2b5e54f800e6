// Copy buttons: <button data-copy-target="#input-id" data-copied-message="Copied">.
// Copies the target's value (or text) and says so in a toast; falls back to selecting
// the text when the Clipboard API is unavailable (plain http, old browsers).
(function () {
  "use strict";

  function toast(message, level) {
    if (window.EngageX && window.EngageX.showToast) window.EngageX.showToast(message, level);
  }

  function selectTarget(target) {
    if (typeof target.select === "function") {
      target.focus();
      target.select();
      return true;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return true;
  }

  function fallbackCopy(target, message) {
    selectTarget(target);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    if (copied) toast(message, "success");
    else toast("Press Ctrl+C (⌘C on a Mac) to copy the selected text.", "info");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent;
    var message = button.getAttribute("data-copied-message") || "Copied";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          toast(message, "success");
        },
        function () {
          fallbackCopy(target, message);
        }
      );
    } else {
      fallbackCopy(target, message);
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
