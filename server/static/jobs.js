// A background job's page (console/job.html): polls the job's status every second and
// updates the progress bar, the counts and the times; once the job ends, reloads the
// page, which then shows the outcome. Served as a file: the CSP allows no inline script.
(function () {
  "use strict";
  var POLL_MS = 1000;

  function start() {
    var section = document.getElementById("job");
    if (!section) return;
    var url = section.getAttribute("data-status-url");
    var state = section.getAttribute("data-state");
    if (state === "done" || state === "failed" || state === "cancelled") return;
    var bar = document.getElementById("job-progress");
    var text = document.getElementById("job-progress-text");
    var label = document.getElementById("job-state-label");
    var elapsed = document.getElementById("job-elapsed");
    var left = document.getElementById("job-left");

    function show(info) {
      if (info.total) {
        bar.max = info.total;
        bar.value = Math.min(info.done, info.total);
      } else {
        bar.removeAttribute("value"); // no total known: an indeterminate bar
      }
      bar.textContent = info.progress_text;
      text.textContent = info.progress_text;
      label.textContent = info.state_label;
      elapsed.textContent = info.elapsed_text;
      left.textContent = info.left_text;
      section.setAttribute("data-state", info.state);
      if (info.finished) window.location.reload();
      else window.setTimeout(poll, POLL_MS);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(show)
        .catch(function () { window.setTimeout(poll, POLL_MS * 5); });
    }

    window.setTimeout(poll, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
