// Template editor: tabs, click-to-insert merge tags, a live preview that follows typing
// (debounced) in the sandboxed frame, desktop/mobile/dark toggles, the visual (rich-text)
// mode, dialogs and Ctrl+S.
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
    if (tab.id === "tab-visual") openVisual();
    else closeVisual();
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
      var text = "{{ " + button.getAttribute("data-insert-tag") + " }}";
      if (visualDoc) {
        visualDoc.execCommand("insertText", false, text);
        writeBack();
        return;
      }
      var target = lastTarget;
      if (!target || target.readOnly) return;
      var start = target.selectionStart || 0;
      var end = target.selectionEnd || 0;
      target.setRangeText(text, start, end, "end");
      target.focus();
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // ------------------------------------------------------------ visual (rich-text) mode
  // A contenteditable done carefully instead of a bundled editor: the email itself, after
  // the server's sanitizer, in a same-origin frame that can run nothing (sandboxed, its
  // own CSP without any script source); design mode on; every change written back to the
  // HTML tab, so there is one source of truth and the server sanitizes it again on save.
  var visualFrame = document.getElementById("visual-frame");
  var visualForm = document.getElementById("visual-form");
  var visualBlocked = document.querySelector("[data-visual-blocked]");
  var visualToolbar = document.querySelector(".tpl-visual__toolbar");
  var htmlArea = form.querySelector("textarea[name=html]");
  var visualDoc = null;
  var visualTimer = null;
  var visualOpen = false;

  function openVisual() {
    if (!visualFrame) return;
    visualOpen = true;
    visualDoc = null;
    // Browsers move text that sits between table rows: template logic there would end
    // up somewhere else. Such templates are edited as HTML.
    var blocked = /\{%/.test(htmlArea.value);
    visualBlocked.hidden = !blocked;
    visualFrame.hidden = blocked;
    visualToolbar.hidden = blocked;
    if (blocked) return;
    visualForm.querySelector("[name=html]").value = htmlArea.value;
    visualForm.submit();
  }
  function closeVisual() {
    if (visualDoc) writeBack();
    visualOpen = false;
    visualDoc = null;
  }
  function writeBack() {
    if (!visualDoc) return;
    var doctype = visualDoc.doctype ? "<!DOCTYPE " + visualDoc.doctype.name + ">\n" : "";
    htmlArea.value = doctype + visualDoc.documentElement.outerHTML;
    htmlArea.dispatchEvent(new Event("input", { bubbles: true }));
  }
  if (visualFrame) {
    visualFrame.addEventListener("load", function () {
      var doc = visualFrame.contentDocument;
      if (!visualOpen || !doc || doc.URL === "about:blank") return;
      doc.designMode = "on";
      visualDoc = doc;
      doc.addEventListener("input", function () {
        clearTimeout(visualTimer);
        visualTimer = setTimeout(writeBack, 300);
      });
      doc.addEventListener("keydown", saveShortcut);
    });
    document.querySelectorAll("[data-visual-command]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!visualDoc) return;
        var command = button.getAttribute("data-visual-command");
        var value = button.getAttribute("data-visual-value");
        var question = button.getAttribute("data-visual-prompt");
        if (question) {
          value = window.prompt(question, "https://");
          if (!value) return;
        }
        visualFrame.contentWindow.focus();
        visualDoc.execCommand(command, false, value);
        writeBack();
      });
    });
  }

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
  form.addEventListener("submit", function () {
    if (visualDoc) writeBack();
    dirty = false;
  });

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
  function saveShortcut(event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      var save = document.getElementById("save-button");
      if (!save) return;
      event.preventDefault();
      if (visualDoc) writeBack();
      form.requestSubmit(save);
    }
  }
  document.addEventListener("keydown", saveShortcut);
  window.addEventListener("beforeunload", function (event) {
    if (dirty) event.preventDefault();
  });
})();
