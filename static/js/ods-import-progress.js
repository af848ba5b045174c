// The ODS import page: ask for progress every two seconds and move the bar;
// reload once the import finishes, so the report appears. Without this
// script the page's Refresh button does the same by hand.
document.addEventListener("DOMContentLoaded", function () {
  var section = document.querySelector("[data-ods-import]");
  if (!section || section.getAttribute("data-finished") === "true") {
    return;
  }
  var bar = section.querySelector("progress");
  var percent = section.querySelector("[data-progress-percent]");
  var doing = section.querySelector("[data-progress-doing]");
  var url = section.getAttribute("data-progress-url");
  var failures = 0;

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        failures = 0;
        bar.value = progress.percent;
        bar.textContent = progress.percent + "%";
        percent.textContent = progress.percent + "%";
        if (doing.textContent !== progress.doing) {
          doing.textContent = progress.doing;
        }
        if (progress.finished) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) {
          window.setTimeout(poll, 5000);
        } else {
          doing.textContent = "Progress could not be read: use the Refresh button.";
        }
      });
  }
  window.setTimeout(poll, 1000);
});
