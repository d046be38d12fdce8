/* Reconciling double entry by keyboard: one key per item that differs.
   In an item's choices, a digit picks that answer and moves on to the next item that
   differs (after the last, to the button, so Enter makes the form final). An empty submit
   marks the items still open, inline, instead of the browser's bubble. */
(function () {
  "use strict";
  var form = document.getElementById("reconcile");
  if (!form) { return; }
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset.choice"));
  var button = document.getElementById("make-final");
  var summary = document.getElementById("reconcile-error");

  function chosen(group) { return group.querySelector("input:checked"); }

  function mark(group, missing) {
    var error = group.querySelector(".field-error");
    group.parentNode.classList.toggle("has-error", missing);
    if (error) {
      if (missing) { error.textContent = form.getAttribute("data-missing"); }
      error.hidden = !missing;
    }
  }

  function focusGroup(group) {
    var input = chosen(group) || group.querySelector("input");
    if (input) { input.focus(); }
  }

  function next(i) {
    for (var j = i + 1; j < groups.length; j += 1) {
      if (!chosen(groups[j])) { focusGroup(groups[j]); return; }
    }
    for (var k = 0; k < groups.length; k += 1) {
      if (!chosen(groups[k])) { focusGroup(groups[k]); return; }
    }
    button.focus();
  }

  groups.forEach(function (group, i) {
    group.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey || event.key.length !== 1) { return; }
      var input = group.querySelector('input[value="' + event.key + '"]');
      if (!input) { return; }
      event.preventDefault();
      input.checked = true;
      mark(group, false);
      next(i);
    });
    group.addEventListener("change", function () { mark(group, false); });
  });

  form.addEventListener("submit", function (event) {
    var open = groups.filter(function (group) { return !chosen(group); });
    groups.forEach(function (group) { mark(group, open.indexOf(group) >= 0); });
    if (open.length) {
      event.preventDefault();
      summary.hidden = false;
      focusGroup(open[0]);
    }
  });
})();
