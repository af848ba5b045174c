// Move focus to the error summary so keyboard and screen-reader users hear
// what went wrong first; its links then jump to each field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
