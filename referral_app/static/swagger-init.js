/* Swagger UI for /api/docs. Kept out of the page so the page needs no inline
   script (the Content-Security-Policy allows scripts from this site only).
   The spec URL comes from the page: <div id="swagger-ui" data-spec-url="..."> */
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      // No top bar: the page documents this API only, and cannot be pointed
      // at another document by a crafted link.
      layout: "BaseLayout",
      presets: [window.SwaggerUIBundle.presets.apis],
      deepLinking: true,
      queryConfigEnabled: false,
      // Never send the document to validator.swagger.io (another site).
      validatorUrl: null,
      // Tokens typed into "Authorize" stay in this page only.
      persistAuthorization: false,
      tryItOutEnabled: false
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
