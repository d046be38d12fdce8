/* Heads-down keying of paper forms (progressive enhancement; the form works without it).
 * One key per item: an allowed digit fills the item and moves on, any other key is refused
 * on the spot, Backspace steps back. After the last item the review appears with the Save
 * button focused, so Enter saves: 39 digits + Enter = 40 keystrokes for a SIPAS form.
 * A draft is kept in sessionStorage per serial, so a reload or a re-login loses nothing. */
(function () {
  "use strict";

  function draftKey(serial) { return "surveyapp-draft-" + serial; }

  function initSerialPage() {
    var page = document.getElementById("serial-form");
    if (!page) { return; }
    var saved = page.getAttribute("data-saved");
    if (saved) {
      try { window.sessionStorage.removeItem(draftKey(saved)); } catch (e) { /* storage off */ }
    }
  }

  function initReviewPage() {
    var review = document.getElementById("reviewform");
    if (!review) { return; }
    review.addEventListener("submit", function () {
      try { window.sessionStorage.removeItem(draftKey(review.getAttribute("data-serial"))); } catch (e) { /* */ }
    });
  }

  function initKeyForm() {
    var form = document.getElementById("keyform");
    if (!form) { return; }
    var serial = form.getAttribute("data-serial");
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input.key-input"));
    var status = document.getElementById("key-status");
    var review = document.getElementById("js-review");
    var grid = document.getElementById("review-grid");
    var save = document.getElementById("save-button");
    var counter = document.getElementById("keystrokes");
    var noJs = form.querySelector(".no-js-actions");
    var strokes = 0;
    if (noJs) { noJs.hidden = true; }
    form.classList.add("js-keying");

    function store() {
      var values = {};
      inputs.forEach(function (input) { values[input.name] = input.value; });
      try {
        window.sessionStorage.setItem(draftKey(serial), JSON.stringify({ values: values, strokes: strokes }));
      } catch (e) { /* storage off: the server keeps a re-login's POST anyway */ }
    }

    function restore() {
      var raw = null;
      try { raw = window.sessionStorage.getItem(draftKey(serial)); } catch (e) { return; }
      if (!raw) { return; }
      var draft;
      try { draft = JSON.parse(raw); } catch (e) { return; }
      var anyTyped = inputs.some(function (input) { return input.value !== ""; });
      if (anyTyped || !draft || !draft.values) { return; }
      inputs.forEach(function (input) {
        var v = draft.values[input.name];
        if (typeof v === "string" && v.length === 1 && input.getAttribute("data-allowed").indexOf(v) >= 0) {
          input.value = v;
        }
      });
      strokes = draft.strokes || 0;
      say(form.getAttribute("data-restored") || "");
    }

    function say(text) { if (status) { status.textContent = text; } }

    function firstEmpty() {
      for (var i = 0; i < inputs.length; i += 1) { if (inputs[i].value === "") { return i; } }
      return -1;
    }

    function showReview() {
      grid.textContent = "";
      inputs.forEach(function (input, i) {
        var li = document.createElement("li");
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = (input.getAttribute("data-label") || input.name) + " ";
        var value = document.createElement("strong");
        value.textContent = input.value;
        if (input.value === "0") { li.className = "blank"; }
        li.appendChild(code);
        li.appendChild(value);
        li.addEventListener("click", function () { hideReview(); focusAt(i); });
        grid.appendChild(li);
      });
      review.hidden = false;
      save.focus();
    }

    function hideReview() { review.hidden = true; }

    function focusAt(i) {
      var input = inputs[Math.max(0, Math.min(i, inputs.length - 1))];
      input.focus();
      input.select();
    }

    function advance(i) {
      var next = firstEmptyAfter(i);
      if (next < 0) { showReview(); } else { focusAt(next); }
    }

    function firstEmptyAfter(i) {
      /* Heads-down order: the next empty item; after a correction, back to the review. */
      for (var j = i + 1; j < inputs.length; j += 1) { if (inputs[j].value === "") { return j; } }
      return firstEmpty();
    }

    inputs.forEach(function (input, i) {
      input.addEventListener("keydown", function (event) {
        var key = event.key;
        if (event.ctrlKey || event.altKey || event.metaKey || key === "Tab" || key === "Shift") { return; }
        event.preventDefault();
        strokes += 1;
        if (key === "Backspace") {
          if (input.value !== "") { input.value = ""; } else if (i > 0) { inputs[i - 1].value = ""; focusAt(i - 1); }
          store();
          say("");
          return;
        }
        if (key === "Enter") {
          var empty = firstEmpty();
          if (empty < 0) { showReview(); } else { focusAt(empty); say(form.getAttribute("data-missing") || ""); }
          return;
        }
        if (key.length === 1 && input.getAttribute("data-allowed").indexOf(key) >= 0 && /[0-9]/.test(key)) {
          input.value = key;
          input.removeAttribute("aria-invalid");
          say("");
          store();
          advance(i);
          return;
        }
        input.setAttribute("aria-invalid", "true");
        input.classList.add("refused");
        window.setTimeout(function () { input.classList.remove("refused"); }, 400);
        say((form.getAttribute("data-refused") || "✗") + " " + key + " (" + input.getAttribute("data-allowed").split("").join(", ") + ")");
      });
      input.addEventListener("focus", function () { input.select(); });
    });

    save.addEventListener("keydown", function (event) {
      if (event.key === "Backspace" || event.key === "Escape") {
        event.preventDefault();
        strokes += 1;
        hideReview();
        focusAt(inputs.length - 1);
      } else if (event.key === "Enter") {
        strokes += 1;
        counter.value = String(strokes);
      }
    });

    form.addEventListener("submit", function (event) {
      if (counter.value === "") { counter.value = String(strokes); }
      var submitter = event.submitter;
      if (submitter && submitter.value === "save" && firstEmpty() >= 0) {
        event.preventDefault();
        hideReview();
        focusAt(firstEmpty());
      }
    });

    restore();
    var start = firstEmpty();
    if (start < 0) { showReview(); } else { focusAt(start); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initSerialPage();
    initReviewPage();
    initKeyForm();
  });
}());
