// EngageX UI behaviour: sidebar, theme, confirm modal, toasts, loading buttons.
// No inline scripts anywhere: everything hangs off data-* attributes.
(function () {
  "use strict";

  // ---------------------------------------------------------------- toasts
  var TOAST_ICONS = { success: "check", error: "alert", warning: "alert", info: "info" };
  var TOAST_TIMEOUT_MS = { success: 5000, info: 5000, warning: 8000, error: 10000 };

  function toastLevel(level) {
    if (level === "danger") return "error";
    return TOAST_ICONS[level] ? level : "info";
  }

  function dismissToast(toast) {
    if (!toast || toast.classList.contains("is-leaving")) return;
    toast.classList.add("is-leaving");
    window.setTimeout(function () {
      toast.remove();
    }, 220);
  }

  function armToast(toast) {
    var level = toastLevel(toast.getAttribute("data-level"));
    var close = toast.querySelector("[data-toast-close]");
    if (close) {
      close.addEventListener("click", function () {
        dismissToast(toast);
      });
    }
    var timer = window.setTimeout(function () {
      dismissToast(toast);
    }, TOAST_TIMEOUT_MS[level]);
    // Keep it while the user reads it.
    toast.addEventListener("mouseenter", function () {
      window.clearTimeout(timer);
    });
    toast.addEventListener("focusin", function () {
      window.clearTimeout(timer);
    });
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    var template = document.getElementById("toast-template");
    if (!region || !template) return;
    level = toastLevel(level);
    var toast = template.content.firstElementChild.cloneNode(true);
    toast.setAttribute("data-level", level);
    toast.classList.add("tone-" + (level === "error" ? "danger" : level === "info" ? "accent" : level));
    toast.querySelector("[data-toast-message]").textContent = message;
    var icon = toast.querySelector("[data-toast-icon='" + TOAST_ICONS[level] + "']");
    toast.querySelectorAll("[data-toast-icon]").forEach(function (svg) {
      if (svg !== icon) svg.remove();
    });
    if (level === "error") toast.setAttribute("role", "alert");
    region.appendChild(toast);
    armToast(toast);
    return toast;
  }
  window.EngageX = { showToast: showToast };

  // ---------------------------------------------------------------- sidebar
  function setSidebar(open) {
    document.body.classList.toggle("sidebar-open", open);
    document.querySelectorAll("[data-sidebar-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      var first = document.querySelector("#sidebar a, #sidebar button");
      if (first) first.focus();
    }
  }

  // ---------------------------------------------------------------- theme
  function currentTheme() {
    return document.documentElement.getAttribute("data-theme") === "light" ? "light" : "dark";
  }

  function syncThemeButtons() {
    var light = currentTheme() === "light";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", light ? "true" : "false");
      button.setAttribute("aria-label", light ? "Switch to dark theme" : "Switch to light theme");
      button.title = button.getAttribute("aria-label");
    });
  }

  function toggleTheme() {
    var next = currentTheme() === "light" ? "dark" : "light";
    document.documentElement.setAttribute("data-theme", next);
    try {
      localStorage.setItem("engagex-theme", next);
    } catch (error) {
      /* not persisted; fine */
    }
    syncThemeButtons();
  }

  // ---------------------------------------------------------------- confirm modal
  // Any form, button or link with data-confirm asks first. htmx's hx-confirm uses the
  // same dialog instead of the browser's confirm().
  var modal = null;
  var pendingConfirm = null;
  var returnFocusTo = null;

  function focusableIn(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (element) {
        return !element.disabled && element.offsetParent !== null;
      }
    );
  }

  function openConfirm(options, onConfirm) {
    modal = modal || document.getElementById("confirm-modal");
    if (!modal) {
      if (window.confirm(options.message || options.title)) onConfirm();
      return;
    }
    modal.querySelector("[data-confirm-title]").textContent = options.title || "Are you sure?";
    modal.querySelector("[data-confirm-message]").textContent =
      options.message || "This can't be undone.";
    var accept = modal.querySelector("[data-confirm-accept]");
    accept.querySelector("[data-confirm-label]").textContent = options.action || "Confirm";
    accept.classList.toggle("btn--danger", options.variant !== "primary");
    accept.classList.toggle("btn--primary", options.variant === "primary");
    returnFocusTo = document.activeElement;
    pendingConfirm = onConfirm;
    modal.showModal();
    // Safer default: focus Cancel, so a stray Enter does not destroy anything.
    modal.querySelector("[data-confirm-cancel]").focus();
  }

  function closeConfirm(confirmed) {
    if (!modal || !modal.open) return;
    var action = pendingConfirm;
    pendingConfirm = null;
    modal.close();
    if (returnFocusTo && document.contains(returnFocusTo)) returnFocusTo.focus();
    if (confirmed && action) action();
  }

  function confirmOptions(element) {
    return {
      title: element.getAttribute("data-confirm-title") || element.getAttribute("data-confirm"),
      message: element.getAttribute("data-confirm-message"),
      action: element.getAttribute("data-confirm-action"),
      variant: element.getAttribute("data-confirm-variant"),
    };
  }

  function wireModal() {
    modal = document.getElementById("confirm-modal");
    if (!modal) return;
    modal.querySelector("[data-confirm-accept]").addEventListener("click", function () {
      closeConfirm(true);
    });
    modal.querySelector("[data-confirm-cancel]").addEventListener("click", function () {
      closeConfirm(false);
    });
    // Escape fires "cancel" on a modal <dialog>.
    modal.addEventListener("cancel", function (event) {
      event.preventDefault();
      closeConfirm(false);
    });
    modal.addEventListener("click", function (event) {
      if (event.target === modal) closeConfirm(false); // backdrop click
    });
    // Keep Tab inside the dialog.
    modal.addEventListener("keydown", function (event) {
      if (event.key !== "Tab") return;
      var items = focusableIn(modal);
      if (!items.length) return;
      var first = items[0];
      var last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  // ---------------------------------------------------------------- loading buttons
  function setLoading(button, loading) {
    if (!button) return;
    button.classList.toggle("is-loading", loading);
    if (loading) {
      button.setAttribute("aria-busy", "true");
      // Disable after the submit has read the button's name/value.
      window.setTimeout(function () {
        button.disabled = true;
      }, 0);
    } else {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  }

  function submitterOf(form, event) {
    return (event && event.submitter) || form.querySelector("button[type=submit], button:not([type])");
  }

  // ---------------------------------------------------------------- wiring
  // Time zone pickers start at the browser's zone when it is one of the options.
  document.querySelectorAll("select[data-timezone-guess]").forEach(function (select) {
    if (select.value && select.value !== "UTC") return;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
    } catch (error) {
      /* keep the default */
    }
  });

  // Disclosure menus (<details data-menu>): close on a click elsewhere or on Escape.
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details[data-menu][open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details[data-menu]"));
    var toggle = event.target.closest("[data-sidebar-toggle]");
    if (toggle) {
      setSidebar(!document.body.classList.contains("sidebar-open"));
      return;
    }
    if (event.target.closest("[data-sidebar-close]")) {
      setSidebar(false);
      return;
    }
    if (event.target.closest("[data-theme-toggle]")) {
      toggleTheme();
      return;
    }
    var demo = event.target.closest("[data-demo-toast]");
    if (demo) {
      showToast(demo.getAttribute("data-demo-toast"), demo.getAttribute("data-level"));
      return;
    }
    // Links and non-submit buttons with data-confirm (forms are handled on submit).
    var trigger = event.target.closest("a[data-confirm], button[data-confirm][type=button]");
    if (trigger && !trigger.hasAttribute("data-confirmed")) {
      event.preventDefault();
      openConfirm(confirmOptions(trigger), function () {
        trigger.setAttribute("data-confirmed", "");
        trigger.click();
        trigger.removeAttribute("data-confirmed");
      });
    }
  });

  // Capture phase: the question comes before anyone else sees the submit, including
  // htmx's own listener on boosted forms (inside hx-boost regions such as tables).
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var submitter = submitterOf(form, event);
      var asker = (submitter && submitter.hasAttribute("data-confirm") && submitter) ||
        (form.hasAttribute("data-confirm") && form);
      if (!asker || form.hasAttribute("data-confirmed")) return;
      event.preventDefault();
      event.stopPropagation();
      openConfirm(confirmOptions(asker), function () {
        form.setAttribute("data-confirmed", "");
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
        form.removeAttribute("data-confirmed");
      });
    },
    true
  );

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // htmx handles its own forms (loading state below); plain forms navigate away.
    if (!event.defaultPrevented && !form.hasAttribute("hx-get") && !form.hasAttribute("hx-post")) {
      setLoading(submitterOf(form, event), true);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("sidebar-open")) {
      setSidebar(false);
      var toggle = document.querySelector("[data-sidebar-toggle]");
      if (toggle) toggle.focus();
    }
  });

  // Back/forward cache restores pages as they were left: clear stale spinners.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(".btn.is-loading").forEach(function (button) {
      setLoading(button, false);
    });
  });

  // ---------------------------------------------------------------- htmx integration
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) return;
    event.preventDefault();
    openConfirm({ title: event.detail.question }, function () {
      event.detail.issueRequest(true);
    });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (element && element.tagName === "FORM" && event.detail.requestConfig.verb !== "get") {
      setLoading(submitterOf(element, event.detail.requestConfig.triggeringEvent), true);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail.elt;
    if (element && element.tagName === "FORM") {
      element.querySelectorAll(".btn.is-loading").forEach(function (button) {
        setLoading(button, false);
      });
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var message = status === 403 ? "You don't have permission to do that."
      : status === 404 ? "That item no longer exists."
      : "Something went wrong — try again.";
    showToast(message, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Can't reach the server — check your connection and try again.", "error");
  });
  // The server sends toasts as an HX-Trigger header: {"toast": {"messages": [...]}}
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    (detail.messages || [detail]).forEach(function (item) {
      if (item && item.message) showToast(item.message, item.level);
    });
  });

  // ---------------------------------------------------------------- start
  function start() {
    wireModal();
    syncThemeButtons();
    document.querySelectorAll("#toasts .toast").forEach(armToast);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
