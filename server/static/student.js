// The students' voting pages work without this script; it only helps on a phone.
(function () {
  "use strict";
  // A second tap on a slow connection must not send the form again: the server would
  // refuse the second vote anyway, but the student would see "already used".
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });
  // Coming back with the Back button shows the page from memory: let it be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });
  // "Обрано: 1 з 2" follows the ticks.
  var counter = document.getElementById("counter");
  if (counter) {
    var update = function () {
      var n = document.querySelectorAll("input[name=project]:checked").length;
      counter.textContent = counter.dataset.template.replace("{n}", n).replace("{max}", counter.dataset.max);
    };
    document.addEventListener("change", update);
  }
})();
