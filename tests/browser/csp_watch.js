// Loaded into every page of the browser tests before the page's own
// scripts (a Playwright init script, which the page's CSP does not govern).
// Each Content-Security-Policy violation is written to the console, where
// tests/browser/conftest.py collects it and fails the test.
document.addEventListener(
  "securitypolicyviolation",
  function (event) {
    console.error(
      "CSP violation: " + event.effectiveDirective + " blocked " +
        (event.blockedURI || "inline") + " in " + event.documentURI +
        (event.sourceFile ? " (" + event.sourceFile + ":" + event.lineNumber + ")" : "")
    );
  },
  true
);
