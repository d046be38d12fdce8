/* Progressive enhancement for the citizen form: the form works without this file.
   - the progress indicator counts answered questions as they are answered;
   - a re-shown form moves focus to its error summary;
   - on a kiosk, idle for data-idle-seconds clears the answers and starts afresh;
   - conditional questions (data-show-if) appear in place once the answers meet their
     condition, and the form says so (step=2), so the server stores it at once instead of
     asking them on a second page. A hidden question's answers are never stored anyway. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) { return; }
  var count = document.getElementById("progress-count");
  var meter = document.getElementById("progress-meter");

  function answered() {
    var names = {};
    var inputs = form.querySelectorAll("input[type=radio]:checked");
    for (var i = 0; i < inputs.length; i++) { names[inputs[i].name] = true; }
    return Object.keys(names).length;
  }
  function update() {
    var n = answered();
    if (count) { count.textContent = String(n); }
    if (meter) { meter.value = n; meter.textContent = n + "/" + meter.max; }
  }
  form.addEventListener("change", update);
  update();

  function valueOf(name) {
    var checked = form.querySelector("input[type=radio][name='" + name + "']:checked");
    return checked ? parseInt(checked.value, 10) : null;
  }
  function met(cond) {
    if (cond.any) { return cond.any.some(met); }
    if (cond.all) { return cond.all.every(met); }
    var value = valueOf(cond.question);
    return value !== null && cond["in"].indexOf(value) >= 0;
  }
  var conditional = form.querySelectorAll("[data-show-if]");
  function reveal() {
    for (var i = 0; i < conditional.length; i++) {
      var cond = JSON.parse(conditional[i].getAttribute("data-show-if"));
      conditional[i].hidden = !met(cond);
    }
  }
  var step = document.getElementById("step");
  if (conditional.length && step) {
    step.value = "2";
    form.addEventListener("change", reveal);
    reveal();
  }

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var restart = body.getAttribute("data-restart-url");
  if (idle > 0 && restart) {
    var timer = null;
    var reset = function () {
      form.reset();
      update();
      window.location.replace(restart);
    };
    var arm = function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(reset, idle * 1000);
    };
    ["pointerdown", "keydown", "input", "change", "scroll", "touchstart"].forEach(function (name) {
      window.addEventListener(name, arm, { passive: true });
    });
    arm();
    /* A kiosk page brought back from the history cache starts afresh. */
    window.addEventListener("pageshow", function (event) { if (event.persisted) { reset(); } });
  }
  var submitting = false;
  form.addEventListener("submit", function (event) {
    /* A double tap sends once from here; the server counts once whatever happens. */
    if (submitting) { event.preventDefault(); return; }
    submitting = true;
    window.setTimeout(function () { submitting = false; }, 8000);
  });
}());
