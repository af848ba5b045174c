// The register import's progress: ask the server every two seconds and
// update the bar; reload the page once the work is done. Without this
// file the page's Refresh button does the same.
(function () {
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) {
    return;
  }
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-progress-text]");
  function poll() {
    fetch(panel.getAttribute("data-progress-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (!state.busy || state.stalled) {
          window.location.reload();
          return;
        }
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        text.textContent = state.done + " of " + (state.total || "all") + " rows (" + state.percent + "%).";
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
