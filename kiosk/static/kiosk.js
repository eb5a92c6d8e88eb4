/* Spilno terminal: follows the terminal's state, warns before an idle visit ends,
   and types on-screen digits. Served as a file: the page allows no inline script. */
(function () {
  "use strict";
  var body = document.body;
  var pollMs = parseInt(body.getAttribute("data-poll-ms"), 10) || 300;
  // A long poll: the terminal holds /state back until what this page shows is out of
  // date (a card put down, a timeout, the idle countdown), so a tap shows at once
  // instead of at the next poll. The terminal caps the wait (STATE_WAIT_MAX_MS).
  var waitMs = 20000;
  var stateUrl = body.getAttribute("data-state-url");
  var activityUrl = body.getAttribute("data-activity-url");
  var myPath = body.getAttribute("data-path");
  var myToken = body.getAttribute("data-token");
  var overlay = document.getElementById("idle-warning");
  var overlayText = document.getElementById("idle-text");
  var continueButton = document.getElementById("idle-continue");
  var leaving = false;
  var lastPing = 0;
  var shownIdle = "";  // the countdown's seconds while the warning is on screen, else ""

  function leaveFor(path) {
    if (leaving) { return; }
    leaving = true;
    // replace, not assign: Back must not lead to a screen the terminal has left.
    window.location.replace(path);
  }

  // Shows the warning as the terminal says; true when that changed what is on screen.
  function showIdle(idle) {
    var seconds = idle.warning ? String(idle.seconds_left) : "";
    var changed = seconds !== shownIdle;
    shownIdle = seconds;
    if (!overlay) { return changed; }
    if (idle.warning) {
      var template = overlayText.getAttribute("data-template");
      overlayText.textContent = template.replace("{seconds}", seconds);
      if (overlay.hidden) {
        overlay.hidden = false;
        continueButton.focus();
      }
    } else if (!overlay.hidden) {
      overlay.hidden = true;
    }
    return changed;
  }

  function stateQuery() {
    var query = new URLSearchParams();
    query.set("wait", String(waitMs));
    query.set("path", myPath);
    query.set("token", myToken);
    query.set("idle", shownIdle);
    return stateUrl + "?" + query.toString();
  }

  function poll() {
    if (leaving) { return; }
    var asked = Date.now();
    var news = false;
    fetch(stateQuery(), { cache: "no-store", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        if (state.path !== myPath || state.token !== myToken) {
          leaveFor(state.path);
          return;
        }
        news = showIdle(state.idle);
      })
      .catch(function () { /* the app restarts: try again after a pause */ })
      .then(function () {
        // Ask again at once after news or a wait that ran out. A quick answer with
        // nothing new (an error; a terminal set to answer at once) waits a poll interval.
        var quick = Date.now() - asked < pollMs;
        window.setTimeout(poll, news || !quick ? 0 : pollMs);
      });
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

  // A form sent (a choice, Next, Cancel) takes the page where the terminal says. The
  // waiting poll answers the same change at once; following it too would cut the form's
  // own navigation short and load the next screen twice.
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { leaving = true; }
  });

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

  // After choosing a project, or back from its detail, the page comes back at that
  // card: keep focus there.
  if (window.location.hash.indexOf("#project-") === 0 || window.location.hash.indexOf("#details-") === 0) {
    var chosen = document.getElementById(window.location.hash.slice(1));
    if (chosen && !chosen.disabled) { chosen.focus(); }
  }
  // The same for a poll's option or its − / + button (the terminal names the one that
  // is still enabled: at 0 or the most points, the other one of the pair).
  if (/^#(option|more|less)-[0-9]+$/.test(window.location.hash)) {
    var tapped = document.getElementById(window.location.hash.slice(1));
    if (tapped && !tapped.disabled) { tapped.focus(); }
  }

  poll();
}());
