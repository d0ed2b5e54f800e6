// Contact import pages: drag & drop onto the upload box, and the "new custom field"
// inputs shown only for columns mapped to a new field. Without JavaScript the file input
// still works and the new-field inputs are simply always visible.
(function () {
  "use strict";

  var NEW_FIELD = "__new__";

  function showFileName(zone, input) {
    var label = zone.querySelector("[data-dropzone-name]");
    if (!label) return;
    var file = input.files && input.files[0];
    label.textContent = file ? file.name : "";
    label.hidden = !file;
  }

  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) return;
    input.addEventListener("change", function () {
      showFileName(zone, input);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("is-dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      input.files = files;
      showFileName(zone, input);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  function syncNewField(row) {
    var select = row.querySelector("select[name^='column_']");
    var extra = row.querySelector("[data-new-field]");
    if (!select || !extra) return;
    extra.hidden = select.value !== NEW_FIELD;
  }

  document.querySelectorAll("[data-mapping-row]").forEach(function (row) {
    syncNewField(row);
    row.addEventListener("change", function (event) {
      if (event.target.matches("select[name^='column_']")) {
        syncNewField(row);
        if (event.target.value === NEW_FIELD) {
          var name = row.querySelector("[data-new-field] input");
          if (name) name.focus();
        }
      }
    });
  });
})();
