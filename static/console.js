// domino-idp console: progressive enhancement only. Every page works
// without this file; it adds copy buttons and token expiry countdowns.
"use strict";
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var text = target.value !== undefined ? target.value : target.textContent;
    var done = function () {
      var was = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = was; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {
        target.select && target.select();
      });
    } else if (target.select) {
      target.select();
      document.execCommand("copy");
      done();
    }
  }
  function tick(el) {
    var at = parseInt(el.getAttribute("data-expires-at"), 10);
    if (!at) return;
    var left = at - Math.floor(Date.now() / 1000);
    if (left > 0) {
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = "(in " + m + "m " + (s < 10 ? "0" : "") + s + "s)";
      el.classList.remove("expired");
    } else {
      el.textContent = "(expired)";
      el.classList.add("expired");
    }
  }
  ready(function () {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { copy(b); });
    });
    var counters = document.querySelectorAll("[data-expires-at]");
    if (counters.length) {
      var all = function () { counters.forEach(tick); };
      all();
      setInterval(all, 1000);
    }
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  });
})();
