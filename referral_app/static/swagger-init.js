/* Swagger UI for /api/docs. Kept out of the page so the page needs no inline
   script (the Content-Security-Policy allows scripts from this site only).
   The spec URL comes from the page: <div id="swagger-ui" data-spec-url="...">. */
(function () {
  "use strict";

  /* Swagger UI 4's own colours fail WCAG AA contrast (white on light green,
     blue and orange badges; light green "Authorize", blue "Execute" and light
     red "Cancel" buttons). These rules darken them. They are added through
     the CSSOM (a constructed stylesheet), which a strict style-src allows,
     unlike a <style> element; they only matter once this script has drawn
     Swagger UI anyway. */
  var CONTRAST_FIXES = [
    ".swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1d70b8; }",
    ".swagger-ui .opblock.opblock-post .opblock-summary-method { background: #00703c; }",
    ".swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4600; }",
    ".swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b3261e; }",
    ".swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #00695c; }",
    ".swagger-ui .opblock.opblock-head .opblock-summary-method { background: #6b0fbf; }",
    ".swagger-ui .opblock.opblock-deprecated .opblock-summary-method { background: #505a5f; }",
    ".swagger-ui .info .title small { background: #505a5f; }",
    ".swagger-ui .info .title small.version-stamp { background-color: #3d6b00; }",
    ".swagger-ui .info a, .swagger-ui .info .url { color: #1d70b8; }",
    ".swagger-ui .btn.authorize { border-color: #00703c; color: #00703c; }",
    ".swagger-ui .btn.authorize svg { fill: #00703c; }",
    ".swagger-ui .btn.execute, .swagger-ui .btn.execute:hover, .swagger-ui .btn.execute:focus { background-color: #1d70b8; border-color: #1d70b8; color: #fff; }",
    /* Swagger UI animates its buttons' colours; mid-animation they fail
       contrast (and the motion helps nobody). */
    ".swagger-ui .btn, .swagger-ui .opblock, .swagger-ui .opblock-summary-method { transition: none !important; }",
    ".swagger-ui .btn.cancel { border-color: #b3261e; color: #b3261e; }",
    ".swagger-ui .opblock-tag small, .swagger-ui .opblock .opblock-summary-description { color: #0b0c0c; }",
    ".swagger-ui .parameter__in, .swagger-ui .parameter__deprecated { color: #505a5f; }",
    ".swagger-ui .download-contents { background: #505a5f; }"
  ].join("\n");

  function addContrastFixes() {
    if (typeof CSSStyleSheet !== "function" || !("adoptedStyleSheets" in document)) {
      return;
    }
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CONTRAST_FIXES);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (error) {
      // An older browser: Swagger UI still works, with its own colours.
    }
  }

  /* Some of Swagger UI 4's controls have no accessible name (the request
     body's text box and the drop-downs after "Try it out", the dialog's close
     button, the copy buttons, the curl command), its dialog is not announced
     as one, and its scrolling examples cannot be reached by keyboard. Repair
     them as they appear. */
  function nameElements(root, selector, nameOf) {
    var elements = root.querySelectorAll(selector);
    for (var i = 0; i < elements.length; i += 1) {
      var element = elements[i];
      if (!element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
        var name = nameOf(element);
        if (name) {
          element.setAttribute("aria-label", name);
        }
      }
    }
  }

  function parameterName(element) {
    var row = element.closest("tr[data-param-name]");
    return row ? row.getAttribute("data-param-name") : "";
  }

  function repairAccessibility(root) {
    nameElements(root, ".body-param__text, .body-param textarea", function () {
      return "Request body";
    });
    nameElements(root, ".close-modal", function () {
      return "Close";
    });
    nameElements(root, "textarea.curl", function () {
      return "curl command";
    });
    nameElements(root, ".copy-to-clipboard > button", function () {
      return "Copy to clipboard";
    });
    nameElements(root, "tr[data-param-name] select, tr[data-param-name] input", parameterName);
    var dialogs = root.querySelectorAll(".modal-ux:not([role])");
    for (var d = 0; d < dialogs.length; d += 1) {
      var title = dialogs[d].querySelector(".modal-ux-header h3");
      dialogs[d].setAttribute("role", "dialog");
      dialogs[d].setAttribute("aria-modal", "true");
      dialogs[d].setAttribute("aria-label", title ? title.textContent : "Authorize");
    }
    var examples = root.querySelectorAll(".highlight-code > pre:not([tabindex])");
    for (var i = 0; i < examples.length; i += 1) {
      examples[i].setAttribute("tabindex", "0");
    }
  }

  function keepAccessible(root) {
    if (typeof MutationObserver !== "function") {
      return;
    }
    var pending = false;
    new MutationObserver(function () {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          repairAccessibility(root);
        });
      }
    }).observe(root, { childList: true, subtree: true });
  }

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    addContrastFixes();
    keepAccessible(root);
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      // No top bar: the page documents this API only, and cannot be pointed
      // at another document by a crafted link.
      layout: "BaseLayout",
      presets: [window.SwaggerUIBundle.presets.apis],
      // Deep links put a link inside each operation's toggle button, which
      // screen readers cannot use (axe: nested-interactive).
      deepLinking: false,
      queryConfigEnabled: false,
      // Never send the document to validator.swagger.io (another site).
      validatorUrl: null,
      // A token typed into "Authorize" stays in this page, not in storage.
      persistAuthorization: false,
      // The colour themes of the example highlighter fail contrast; plain
      // text on the dark background passes.
      syntaxHighlight: { activated: false }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
