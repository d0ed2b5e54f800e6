// Contacts pages: row selection and bulk actions, "select all N matching", and the
// custom field key suggested from its name. Everything hangs off data-* attributes and
// delegated listeners, so it keeps working after htmx swaps the results region.
(function () {
  "use strict";

  function format(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  function number(value) {
    return Number(value).toLocaleString();
  }

  function contactsText(form, count) {
    return count === 1 ? form.dataset.textOne : format(form.dataset.textMany, { number: number(count) });
  }

  function tableOf(form) {
    return form.closest("[data-bulk-table]") || document;
  }

  function rowBoxes(form) {
    return Array.prototype.slice.call(tableOf(form).querySelectorAll("[data-row-check]"));
  }

  // The "how many match?" question is a COUNT over maybe millions of rows: asked only
  // when someone may want to select them all, and once per page.
  function loadCount(form) {
    if (form.dataset.countLoading || !form.dataset.countUrl) return;
    form.dataset.countLoading = "true";
    fetch(form.dataset.countUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("count failed");
        return response.json();
      })
      .then(function (data) {
        form.dataset.matchingCount = String(data.count);
        refresh(form);
      })
      .catch(function () {
        delete form.dataset.countLoading;
      });
  }

  function refresh(form) {
    var boxes = rowBoxes(form);
    var checked = boxes.filter(function (box) {
      return box.checked;
    });
    var scope = form.querySelector("[data-bulk-scope]");
    if (!checked.length) scope.value = "ids"; // unticking everything also drops "all matching"
    var all = scope.value === "all" && form.dataset.matchingCount;
    var count = all ? Number(form.dataset.matchingCount) : checked.length;

    var pageBox = tableOf(form).querySelector("[data-select-page]");
    if (pageBox) {
      pageBox.checked = boxes.length > 0 && checked.length === boxes.length;
      pageBox.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }

    var label = form.querySelector("[data-bulk-count]");
    if (label) {
      label.textContent = all
        ? format(form.dataset.textAllSelected, { number: number(count) })
        : format(form.dataset.textSelected, { contacts: contactsText(form, count) });
    }

    var selectAll = form.querySelector("[data-select-all-matching]");
    if (selectAll) {
      var offer = boxes.length > 0 && checked.length === boxes.length && !all &&
        form.dataset.hasMore === "true";
      selectAll.hidden = !offer;
      if (offer) {
        if (form.dataset.matchingCount) {
          selectAll.textContent = format(form.dataset.textSelectAll, { number: number(form.dataset.matchingCount) });
        } else {
          selectAll.textContent = form.dataset.textSelectAllUnknown;
          loadCount(form);
        }
      }
    }

    form.querySelectorAll("[data-confirm-template]").forEach(function (button) {
      button.setAttribute("data-confirm", format(button.dataset.confirmTemplate, { contacts: contactsText(form, count) }));
    });
    form.classList.toggle("is-active", checked.length > 0);
  }

  function refreshAll() {
    document.querySelectorAll("[data-bulk-form]").forEach(refresh);
  }

  function formFor(element) {
    var table = element.closest("[data-bulk-table]");
    return table ? table.querySelector("[data-bulk-form]") : null;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-page]")) {
      var form = formFor(target);
      if (!form) return;
      rowBoxes(form).forEach(function (box) {
        box.checked = target.checked;
      });
      refresh(form);
    } else if (target.matches("[data-row-check]")) {
      var rowForm = formFor(target);
      if (rowForm) refresh(rowForm);
    }
  });

  document.addEventListener("click", function (event) {
    var selectAll = event.target.closest("[data-select-all-matching]");
    if (selectAll) {
      var form = selectAll.closest("[data-bulk-form]");
      if (!form.dataset.matchingCount) return; // still counting
      form.querySelector("[data-bulk-scope]").value = "all";
      refresh(form);
      return;
    }
    var clear = event.target.closest("[data-clear-selection]");
    if (clear) {
      var clearForm = clear.closest("[data-bulk-form]");
      rowBoxes(clearForm).forEach(function (box) {
        box.checked = false;
      });
      clearForm.querySelector("[data-bulk-scope]").value = "ids";
      refresh(clearForm);
    }
  });

  // ------------------------------------------------------------ custom field key from its name
  function keyFromLabel(label) {
    // Mirrors engagex.contacts.values.field_key_from_label.
    var key = label.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (!key || !/^[a-z]/.test(key)) key = ("field_" + key).replace(/_+$/, "");
    return key.slice(0, 40);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches("[data-field-key]")) {
      target.dataset.edited = target.value ? "true" : "";
      return;
    }
    if (target.matches("[data-field-label]")) {
      var key = target.form && target.form.querySelector("[data-field-key]");
      if (key && !key.dataset.edited) key.value = target.value.trim() ? keyFromLabel(target.value) : "";
    }
  });

  document.addEventListener("htmx:afterSettle", refreshAll);
  window.addEventListener("pageshow", refreshAll); // the browser may restore ticked boxes
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", refreshAll);
  else refreshAll();
})();
