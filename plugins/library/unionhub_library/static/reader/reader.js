/* The library reader's script: font size and night mode (kept in this browser only), the
   progress bar, the scroll position restored on load and saved to the server (debounced;
   also when the page is hidden), arrow keys for previous / next. No external requests.
   Loaded in the page head, before the content, so the saved look applies before paint. */
(function () {
  "use strict";
  var SIZE_KEY = "uh-reader-size";
  var NIGHT_KEY = "uh-reader-night";
  var MIN = 14, MAX = 30, STEP = 2, DEFAULT = 18;
  var root = document.documentElement;

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function keep(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }
  function currentSize() {
    var n = parseInt(load(SIZE_KEY), 10);
    return n >= MIN && n <= MAX ? n : DEFAULT;
  }
  function applySize(n) { root.style.setProperty("--reader-size", n + "px"); }

  applySize(currentSize());
  if (load(NIGHT_KEY) === "1") { root.classList.add("reader-night"); }

  function init() {
    var box = document.getElementById("reader");
    if (!box) { return; }
    var d = box.dataset;
    var position = parseInt(d.position, 10);
    var count = Math.max(parseInt(d.count, 10) || 1, 1);
    var restoring = true;
    var leaving = false;
    var timer = null;
    var lastSent = null;
    var fill = document.getElementById("reader-bar-fill");
    var percentText = document.getElementById("reader-percent");
    var night = document.querySelector('[data-reader="night"]');

    function fraction() {
      var max = root.scrollHeight - window.innerHeight;
      if (max <= 0) { return 0; }
      return Math.min(1, Math.max(0, window.scrollY / max));
    }
    function showPercent() {
      var p = Math.min(1, (position + fraction()) / count);
      if (fill) { fill.style.width = (p * 100).toFixed(1) + "%"; }
      if (percentText) { percentText.textContent = Math.floor(p * 100) + "%"; }
    }
    // ``leavingPage``: the page is being hidden or closed; keepalive lets the request
    // outlive it.
    function save(leavingPage) {
      timer = null;
      var offset = fraction().toFixed(4);
      if (offset === lastSent) { return; }
      lastSent = offset;
      var body = new URLSearchParams();
      body.set("csrf_token", d.csrf);
      body.set("format", d.format);
      body.set("position", String(position));
      body.set("offset", offset);
      try {
        window.fetch(d.saveUrl, {
          method: "POST", body: body, credentials: "same-origin", keepalive: !!leavingPage,
          headers: {"X-CSRFToken": d.csrf}
        }).catch(function () { lastSent = null; });
      } catch (e) { lastSent = null; }
    }
    function schedule() {
      showPercent();
      if (restoring || leaving) { return; }
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () { save(false); }, 1500);
    }

    if (night) { night.setAttribute("aria-pressed", root.classList.contains("reader-night") ? "true" : "false"); }
    document.querySelectorAll("[data-reader]").forEach(function (button) {
      button.addEventListener("click", function () {
        var what = button.getAttribute("data-reader");
        if (what === "night") {
          var on = root.classList.toggle("reader-night");
          keep(NIGHT_KEY, on ? "1" : "0");
          button.setAttribute("aria-pressed", on ? "true" : "false");
          return;
        }
        var at = fraction();
        var n = currentSize() + (what === "larger" ? STEP : -STEP);
        n = Math.min(MAX, Math.max(MIN, n));
        keep(SIZE_KEY, String(n));
        applySize(n);
        window.scrollTo(0, at * Math.max(0, root.scrollHeight - window.innerHeight));
      });
    });

    // Moving to another chapter or page: the server records the new place when it is
    // opened, so nothing is saved on the way out (it could arrive after and win).
    document.querySelectorAll("#reader-prev, #reader-next, #reader-toc a, .reader-content a[href^='/']")
      .forEach(function (link) {
        link.addEventListener("click", function () {
          leaving = true;
          if (timer) { window.clearTimeout(timer); timer = null; }
        });
      });
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) { return; }
      var link = null;
      if (event.key === "ArrowLeft") { link = document.getElementById("reader-prev"); }
      if (event.key === "ArrowRight") { link = document.getElementById("reader-next"); }
      if (link) { leaving = true; window.location.href = link.href; }
    });

    window.addEventListener("scroll", schedule, {passive: true});
    window.addEventListener("pagehide", function () {
      if (!leaving && timer) { window.clearTimeout(timer); save(true); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && !leaving && timer) {
        window.clearTimeout(timer);
        save(true);
      }
    });

    function restore() {
      var offset = parseFloat(d.offset);
      if (!window.location.hash && offset > 0) {
        window.scrollTo(0, offset * Math.max(0, root.scrollHeight - window.innerHeight));
      }
      // the scroll this causes finds nothing new to save (lastSent is where we are)
      lastSent = fraction().toFixed(4);
      restoring = false;
      showPercent();
    }
    if (document.readyState === "complete") { restore(); } else { window.addEventListener("load", restore); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
