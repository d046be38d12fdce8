/* The kiosk's thank-you page returns to the start by itself after data-reset-seconds (a
   <noscript> meta refresh does the same without JavaScript). */
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseFloat(body.getAttribute("data-reset-seconds") || "0");
  var url = body.getAttribute("data-restart-url");
  if (seconds > 0 && url) {
    window.setTimeout(function () { window.location.replace(url); }, seconds * 1000);
  }
}());
