// Segment builder: add and remove rule rows and groups in place, swap the operator and
// value inputs when a field or operator changes, and ask for the live count.
// Without this file the page still works: the same buttons submit the form and the
// server re-renders it (see engagex/contacts/segments/form.py).
(function () {
  "use strict";

  var form = document.querySelector("[data-segment-form]");
  var catalogNode = document.getElementById("segment-catalog");
  if (!form || !catalogNode) return;

  var catalog = JSON.parse(catalogNode.textContent);
  var fields = {};
  catalog.groups.forEach(function (group) {
    group.fields.forEach(function (entry) {
      fields[entry.field] = entry;
    });
  });
  var rulesBox = form.querySelector("[data-rules]");
  var live = document.getElementById("segment-live");
  var maxRules = parseInt(form.getAttribute("data-max-rules"), 10) || 50;
  var labels = {
    rule: form.getAttribute("data-label-rule") || "Rule",
    group: form.getAttribute("data-label-group") || "Group",
    remove: form.getAttribute("data-label-remove") || "Remove rule",
    tooMany: form.getAttribute("data-label-too-many") || "Too many rules.",
  };

  // ------------------------------------------------------------ helpers
  function fromTemplate(template, replacements) {
    var html = template.innerHTML;
    Object.keys(replacements).forEach(function (key) {
      html = html.split(key).join(replacements[key]);
    });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder;
  }

  function children(container, selector) {
    return Array.prototype.filter.call(container.children, function (node) {
      return node.matches(selector);
    });
  }

  // Row prefixes only order the rows, so a new row takes the highest number + 1.
  function nextIndex(rows) {
    var highest = -1;
    rows.forEach(function (row) {
      var parts = row.getAttribute("data-prefix").split("-");
      highest = Math.max(highest, parseInt(parts[parts.length - 1], 10));
    });
    return highest + 1;
  }

  function ruleCount() {
    return rulesBox.querySelectorAll("[data-rule]").length;
  }

  function changed() {
    if (window.htmx && live) window.htmx.trigger(live, "segment-changed");
  }

  // Visible numbers and the hidden labels read by screen readers follow the row order.
  function renumber() {
    children(rulesBox, "[data-rule], [data-group]").forEach(function (item, index) {
      var number = String(index + 1);
      if (item.matches("[data-group]")) {
        item.querySelector("[data-group-name]").textContent = labels.group + " " + number;
        var groupBox = item.querySelector("[data-group-rules]");
        children(groupBox, "[data-rule]").forEach(function (rule, childIndex) {
          label(rule, number + "." + (childIndex + 1));
        });
      } else {
        label(item, number);
      }
    });
    var empty = form.querySelector("[data-rules-empty]");
    if (empty) empty.hidden = rulesBox.children.length > 0;
  }

  function label(rule, number) {
    rule.querySelector("[data-rule-number]").textContent = number;
    rule.querySelectorAll("[data-rule-name]").forEach(function (node) {
      node.textContent = labels.rule + " " + number;
    });
    var remove = rule.querySelector("[data-remove]");
    if (remove) remove.setAttribute("aria-label", labels.remove + " " + number);
  }

  // ------------------------------------------------------------ inputs
  function valueKind(rule) {
    var option = rule.querySelector("[data-rule-operator]").selectedOptions[0];
    return option ? option.getAttribute("data-value-kind") : "text";
  }

  function renderValue(rule, force) {
    var box = rule.querySelector("[data-rule-value]");
    var kind = valueKind(rule);
    if (!force && box.getAttribute("data-kind") === kind) return;
    var template = document.querySelector('template[data-value-template="' + kind + '"]');
    if (!template) return;
    var old = box.querySelector("[data-value-input]");
    var oldValue = old && box.getAttribute("data-kind") === kind ? old.value : "";
    var name = rule.getAttribute("data-prefix") + "-value";
    var fresh = fromTemplate(template, { __name__: name });
    box.replaceChildren.apply(box, Array.prototype.slice.call(fresh.childNodes));
    box.setAttribute("data-kind", kind);
    var input = box.querySelector("[data-value-input]");
    if (input && kind === "choice") {
      var entry = fields[rule.querySelector("[data-rule-field]").value];
      (entry && entry.choices ? entry.choices : []).forEach(function (choice) {
        input.add(new Option(choice[1], choice[0]));
      });
    }
    if (input && oldValue) input.value = oldValue;
  }

  function fieldChanged(rule) {
    var entry = fields[rule.querySelector("[data-rule-field]").value];
    if (!entry) return;
    var select = rule.querySelector("[data-rule-operator]");
    var previous = select.value;
    select.replaceChildren();
    entry.operators.forEach(function (operator) {
      var option = new Option(operator.label, operator.key);
      option.setAttribute("data-value-kind", operator.value);
      select.add(option);
    });
    if (entry.operators.some(function (operator) { return operator.key === previous; })) {
      select.value = previous;
    }
    renderValue(rule, true);
  }

  // ------------------------------------------------------------ add / remove
  function addRule(container, prefix) {
    var holder = fromTemplate(document.getElementById("segment-rule-template"), {
      __prefix__: prefix,
    });
    var rule = holder.firstElementChild;
    container.appendChild(rule);
    return rule;
  }

  function add(target) {
    if (ruleCount() >= maxRules) {
      if (window.EngageX) window.EngageX.showToast(labels.tooMany, "warning");
      return;
    }
    var topRows = children(rulesBox, "[data-rule], [data-group]");
    var focusTarget;
    if (target === "rule") {
      focusTarget = addRule(rulesBox, "rules-" + nextIndex(topRows));
    } else if (target === "group") {
      var prefix = "rules-" + nextIndex(topRows);
      var holder = fromTemplate(document.getElementById("segment-group-template"), {
        __prefix__: prefix,
      });
      focusTarget = holder.firstElementChild;
      rulesBox.appendChild(focusTarget);
    } else {
      var group = rulesBox.querySelector('[data-group][data-prefix="' + target + '"]');
      if (!group) return;
      var groupBox = group.querySelector("[data-group-rules]");
      var groupRows = children(groupBox, "[data-rule]");
      focusTarget = addRule(groupBox, target + "-rules-" + nextIndex(groupRows));
    }
    renumber();
    var first = focusTarget.querySelector("select, input");
    if (first) first.focus();
    changed();
  }

  function remove(button) {
    var row = button.closest("[data-rule], [data-group]");
    if (!row) return;
    var container = row.parentElement;
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    // An emptied group goes too: a group without rules means nothing.
    var group = container.closest("[data-group]");
    if (group && !container.children.length) {
      next = group.nextElementSibling || group.previousElementSibling;
      group.remove();
    }
    renumber();
    var focusable = next && next.querySelector("select, input");
    (focusable || form.querySelector('[data-add="rule"]')).focus();
    changed();
  }

  // ------------------------------------------------------------ wiring
  form.addEventListener("change", function (event) {
    var rule = event.target.closest("[data-rule]");
    if (!rule) return;
    if (event.target.matches("[data-rule-field]")) fieldChanged(rule);
    else if (event.target.matches("[data-rule-operator]")) renderValue(rule, false);
  });

  form.addEventListener("click", function (event) {
    var adder = event.target.closest("[data-add]");
    if (adder) {
      event.preventDefault();
      add(adder.getAttribute("data-add"));
      return;
    }
    var remover = event.target.closest("[data-remove]");
    if (remover) {
      event.preventDefault();
      remove(remover);
    }
  });

  // The count updates by itself with JavaScript on; the manual button is for without.
  var refresh = form.querySelector("[data-refresh]");
  if (refresh) refresh.hidden = true;
  renumber();
})();
