// Accessible autocomplete for pickers (issue 19): progressive enhancement of the controls that
// commissioning/widgets.py marks with data-app-autocomplete. Without JavaScript they are a plain
// GOV.UK select or text input and the page works as it is. This file is small and loaded on
// every page; GOV.UK's accessible-autocomplete (vendored in static/accessible-autocomplete/)
// and its stylesheet are fetched only when the page has a picker. Their URLs come from this
// script tag's data attributes, so they follow collectstatic's hashed names.
(function () {
  "use strict";
  var script = document.currentScript;
  var controls = document.querySelectorAll("[data-app-autocomplete]");
  if (!script || !controls.length || !("fetch" in window)) return;

  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = script.getAttribute("data-stylesheet");
  document.head.appendChild(stylesheet);

  var library = document.createElement("script");
  library.src = script.getAttribute("data-library");
  library.onload = function () {
    for (var i = 0; i < controls.length; i++) {
      var control = controls[i];
      if (control.getAttribute("data-app-autocomplete") === "input") {
        enhanceInput(control);
      } else {
        enhanceSelect(control);
      }
    }
  };
  document.head.appendChild(library);

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function hasError(control) {
    return Boolean(control.closest(".govuk-form-group--error"));
  }

  // The library sets the input's aria-describedby to its own usage hint and removes it once
  // the person types; keep the field's GOV.UK hint and error message described as well.
  function keepDescribedBy(id, describedBy) {
    var input = document.getElementById(id);
    if (!input || !describedBy) return;
    var apply = function () {
      var current = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      var wanted = describedBy.split(/\s+/).filter(function (part) {
        return part && current.indexOf(part) === -1;
      });
      if (wanted.length) input.setAttribute("aria-describedby", current.concat(wanted).join(" "));
    };
    apply();
    new MutationObserver(apply).observe(input, { attributes: true, attributeFilter: ["aria-describedby"] });
  }

  // With autoselect the library shows the rest of the first match in a second, read-only
  // input behind the real one; it has no label (axe: "label", critical) and repeats what the
  // listbox already says, so hide it from assistive technology.
  function hideTypeaheadHint(wrapper) {
    if (!wrapper) return;
    var hide = function () {
      var hints = wrapper.querySelectorAll(".autocomplete__hint:not([aria-hidden])");
      for (var i = 0; i < hints.length; i++) hints[i].setAttribute("aria-hidden", "true");
    };
    hide();
    new MutationObserver(hide).observe(wrapper, { childList: true, subtree: true });
  }

  function enhanceSelect(select) {
    var id = select.id;
    var describedBy = select.getAttribute("aria-describedby");
    var form = select.form;
    window.accessibleAutocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: "",
      inputClasses: hasError(select) ? "govuk-input--error" : null,
      // The library writes a suggestion as HTML: escape the option's text.
      templates: {
        inputValue: function (text) { return text || ""; },
        suggestion: function (text) { return escapeHtml(text); }
      },
      tNoResults: function () { return "No results found"; }
    });
    keepDescribedBy(id, describedBy);
    hideTypeaheadHint(select.previousElementSibling);
    // The library leaves the select's old choice in place when the text is cleared or does
    // not name an option; post what the person sees instead, so the server's own message
    // ("Select the provider") answers rather than a silent old value.
    if (form) {
      form.addEventListener("submit", function () {
        var input = document.getElementById(id);
        if (!input) return;
        var text = input.value.trim();
        var chosen = select.options[select.selectedIndex];
        if (chosen && (chosen.textContent || "").trim() === text) return;
        var match = [].filter.call(select.options, function (option) {
          return (option.textContent || "").trim() === text && (text !== "" || option.value === "");
        })[0];
        if (match) {
          match.selected = true;
        } else {
          select.selectedIndex = -1;
        }
      });
    }
  }

  function enhanceInput(input) {
    var id = input.id;
    var name = input.name;
    var source = input.getAttribute("data-app-autocomplete-source");
    var describedBy = input.getAttribute("aria-describedby");
    var container = document.createElement("div");
    input.parentNode.insertBefore(container, input);
    var latest = 0;
    window.accessibleAutocomplete({
      element: container,
      id: id,
      name: name,
      defaultValue: input.value,
      minLength: 2,
      autoselect: false,
      confirmOnBlur: false,
      showNoOptionsFound: true,
      inputClasses: hasError(input) ? "govuk-input--error" : null,
      source: function (query, populate) {
        var asked = ++latest;
        var url = source + (source.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(query);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { if (asked === latest) populate(data.results || []); })
          .catch(function () { if (asked === latest) populate([]); });
      },
      templates: {
        inputValue: function (result) { return result ? (typeof result === "string" ? result : result.value) : ""; },
        // The library writes a suggestion as HTML: escape it (names can hold "&" or "<").
        suggestion: function (result) { return escapeHtml(typeof result === "string" ? result : result.label); }
      }
    });
    input.parentNode.removeChild(input);
    keepDescribedBy(id, describedBy);
    hideTypeaheadHint(container);
  }
})();
