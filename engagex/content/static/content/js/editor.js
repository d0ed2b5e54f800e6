// Template editor: tabs, click-to-insert merge tags, a live preview that follows typing
// (debounced) in the sandboxed frame, desktop/mobile/dark toggles, dialogs and Ctrl+S.
// Without this file the page still works: Save posts the form, the frame shows the
// saved version, History and Send test are reachable as plain forms.
(function () {
  "use strict";

  var form = document.querySelector("[data-template-editor]");
  if (!form) return;
  var previewForm = document.getElementById("preview-form");
  var previewBox = document.querySelector("[data-preview-box]");
  var darkButton = document.querySelector("[data-preview-dark]");
  var lastTarget = form.querySelector("textarea[name=html]");
  var dirty = false;

  // ------------------------------------------------------------ tabs (WAI-ARIA pattern)
  var tabs = Array.prototype.slice.call(form.querySelectorAll("[role=tab]"));
  function selectTab(tab) {
    tabs.forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    });
    tab.focus();
  }
  tabs.forEach(function (tab, index) {
    tab.addEventListener("click", function () { selectTab(tab); });
    tab.addEventListener("keydown", function (event) {
      var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      selectTab(tabs[(index + step + tabs.length) % tabs.length]);
    });
  });

  // ------------------------------------------------------------ merge tags
  form.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-merge-target")) {
      lastTarget = event.target;
    }
  });
  form.querySelectorAll("[data-insert-tag]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = lastTarget;
      if (!target || target.readOnly) return;
      var text = "{{ " + button.getAttribute("data-insert-tag") + " }}";
      var start = target.selectionStart || 0;
      var end = target.selectionEnd || 0;
      target.setRangeText(text, start, end, "end");
      target.focus();
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // ------------------------------------------------------------ live preview
  var timer = null;
  function refreshPreview() {
    Array.prototype.slice.call(previewForm.querySelectorAll("[data-copied]")).forEach(function (node) {
      node.remove();
    });
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      input.setAttribute("data-copied", "");
      previewForm.appendChild(input);
    });
    previewForm.submit();
  }
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 400);
  }
  form.addEventListener("input", function () { dirty = true; schedulePreview(); });
  form.addEventListener("change", schedulePreview);
  form.addEventListener("submit", function () { dirty = false; });

  document.querySelectorAll("[data-preview-width]").forEach(function (button) {
    button.addEventListener("click", function () {
      previewBox.setAttribute("data-width", button.getAttribute("data-preview-width"));
      document.querySelectorAll("[data-preview-width]").forEach(function (other) {
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
    });
  });
  if (darkButton) {
    darkButton.addEventListener("click", function () {
      var on = darkButton.getAttribute("aria-pressed") !== "true";
      darkButton.setAttribute("aria-pressed", on ? "true" : "false");
      previewBox.classList.toggle("tpl-preview--dark", on);
      previewForm.querySelector("[name=dark]").value = on ? "1" : "0";
      refreshPreview();
    });
  }

  // The plain-text tab shows the text part from the latest check.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "editor-check") return;
    var source = event.target.querySelector("[data-auto-text-source]");
    var shown = document.querySelector("[data-auto-text]");
    if (source && shown) shown.textContent = source.textContent;
  });

  // ------------------------------------------------------------ dialogs, shortcuts
  document.querySelectorAll("[data-open-dialog]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById(button.getAttribute("data-open-dialog")).showModal();
    });
  });
  document.querySelectorAll("dialog [data-close-dialog]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      var save = document.getElementById("save-button");
      if (!save) return;
      event.preventDefault();
      form.requestSubmit(save);
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) event.preventDefault();
  });
})();
