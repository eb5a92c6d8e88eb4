/* Spilno terminal: follows the terminal's state, warns before an idle visit ends,
   and types on-screen digits. Served as a file: the page allows no inline script. */
(function () {
  "use strict";
  var body = document.body;
  var pollMs = parseInt(body.getAttribute("data-poll-ms"), 10) || 300;
  var stateUrl = body.getAttribute("data-state-url");
  var activityUrl = body.getAttribute("data-activity-url");
  var myPath = body.getAttribute("data-path");
  var myToken = body.getAttribute("data-token");
  var overlay = document.getElementById("idle-warning");
  var overlayText = document.getElementById("idle-text");
  var continueButton = document.getElementById("idle-continue");
  var leaving = false;
  var lastPing = 0;

  function leaveFor(path) {
    if (leaving) { return; }
    leaving = true;
    // replace, not assign: Back must not lead to a screen the terminal has left.
    window.location.replace(path);
  }

  function showIdle(idle) {
    if (!overlay) { return; }
    if (idle.warning) {
      var template = overlayText.getAttribute("data-template");
      overlayText.textContent = template.replace("{seconds}", String(idle.seconds_left));
      if (overlay.hidden) {
        overlay.hidden = false;
        continueButton.focus();
      }
    } else if (!overlay.hidden) {
      overlay.hidden = true;
    }
  }

  function poll() {
    if (leaving) { return; }
    fetch(stateUrl, { cache: "no-store", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        if (state.path !== myPath || state.token !== myToken) {
          leaveFor(state.path);
          return;
        }
        showIdle(state.idle);
      })
      .catch(function () { /* the app restarts: try again at the next tick */ })
      .then(function () { window.setTimeout(poll, pollMs); });
  }

  function sendActivity() {
    var data = new URLSearchParams();
    data.set("token", myToken);
    return fetch(activityUrl, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" });
  }

  // Any touch or key press counts as activity (at most one request every 5 s).
  function noteActivity() {
    var now = Date.now();
    if (overlay && !overlay.hidden) { return; }  // the warning needs its own answer
    if (now - lastPing > 5000) {
      lastPing = now;
      sendActivity().catch(function () {});
    }
  }
  document.addEventListener("pointerdown", noteActivity, true);
  document.addEventListener("keydown", noteActivity, true);

  if (continueButton) {
    continueButton.form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendActivity().then(function () { overlay.hidden = true; }).catch(function () {});
    });
  }

  // A page brought back from the back-forward cache is re-asked from the terminal.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  // On-screen digits for the PIN and document number fields.
  Array.prototype.forEach.call(document.querySelectorAll("[data-keypad-for]"), function (pad) {
    var input = document.getElementById(pad.getAttribute("data-keypad-for"));
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key || !input) { return; }
      var value = key.getAttribute("data-key");
      if (value === "back") {
        input.value = input.value.slice(0, -1);
      } else if (value === "clear") {
        input.value = "";
      } else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) {
        input.value += value;
      }
    });
  });

  // After choosing a project the page comes back at that card: keep focus there.
  if (window.location.hash.indexOf("#project-") === 0) {
    var chosen = document.getElementById(window.location.hash.slice(1));
    if (chosen && !chosen.disabled) { chosen.focus(); }
  }

  window.setTimeout(poll, pollMs);
}());
