/* The museum's zoomable image viewer (no dependencies, nothing fetched but the image).
 *
 * Markup: <figure data-viewer> holding .mu-stage > img.mu-img and a toolbar of buttons with
 * data-zoom="in|out|reset|full" and an <output class="mu-scale">. Without this script the
 * image is simply shown at the page's width.
 *
 * Zoom with the wheel (around the pointer), two-finger pinch, double-click / double-tap,
 * the buttons, or the keyboard on the focused stage (+ − 0, arrows to pan, Shift for larger
 * steps); drag with one finger or the mouse to pan. The image is kept inside the stage. */
(function () {
  "use strict";

  var STEP = 1.5;          // button and key zoom factor
  var TAP_MS = 320;        // longest gap between the taps of a double tap
  var TAP_SLOP = 24;       // how far (px) a tap may move and still count as a tap
  var PAN_STEP = 48;       // arrow-key pan, px (Shift: four times more)

  function Viewer(root) {
    this.root = root;
    this.stage = root.querySelector(".mu-stage");
    this.img = root.querySelector(".mu-img");
    this.out = root.querySelector(".mu-scale");
    this.buttons = {};
    var self = this;
    Array.prototype.forEach.call(root.querySelectorAll("[data-zoom]"), function (b) {
      self.buttons[b.getAttribute("data-zoom")] = b;
      b.addEventListener("click", function () { self.command(b.getAttribute("data-zoom")); });
    });
    this.s = 1; this.fit = 1; this.tx = 0; this.ty = 0;
    this.pointers = new Map();
    this.lastTap = null;
    this.ready = false;
    if (this.img.complete && this.img.naturalWidth) this.start();
    else this.img.addEventListener("load", function () { self.start(); }, { once: true });
  }

  Viewer.prototype.start = function () {
    var self = this, stage = this.stage;
    this.iw = this.img.naturalWidth;
    this.ih = this.img.naturalHeight;
    if (!this.iw || !this.ih) return;
    stage.classList.add("mu-live");
    this.ready = true;
    this.layout(true);
    stage.addEventListener("wheel", function (e) { self.onWheel(e); }, { passive: false });
    stage.addEventListener("pointerdown", function (e) { self.onDown(e); });
    stage.addEventListener("pointermove", function (e) { self.onMove(e); });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
      stage.addEventListener(type, function (e) { self.onUp(e); });
    });
    stage.addEventListener("dblclick", function (e) {
      e.preventDefault();
      // a double tap was handled by onUp already (some browsers add a dblclick after it)
      if (self.touchedAt && e.timeStamp - self.touchedAt < 1000) return;
      var p = self.local(e); self.toggle(p.x, p.y);
    });
    stage.addEventListener("keydown", function (e) { self.onKey(e); });
    this.img.addEventListener("dragstart", function (e) { e.preventDefault(); });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { self.layout(false); }).observe(stage);
    } else {
      window.addEventListener("resize", function () { self.layout(false); });
    }
    document.addEventListener("fullscreenchange", function () { self.layout(false); });
  };

  /* Recompute the fitted scale for the stage's size; keep the relative zoom and the
   * point at the stage's centre. */
  Viewer.prototype.layout = function (reset) {
    if (!this.ready) return;
    var w = this.stage.clientWidth, h = this.stage.clientHeight;
    if (!w || !h) return;
    var rel = this.s / this.fit;
    var cx = this.w ? (this.w / 2 - this.tx) / this.s : this.iw / 2;
    var cy = this.h ? (this.h / 2 - this.ty) / this.s : this.ih / 2;
    this.w = w; this.h = h;
    this.fit = Math.min(w / this.iw, h / this.ih);
    this.max = Math.max(this.fit * 6, 3);
    if (reset) { rel = 1; cx = this.iw / 2; cy = this.ih / 2; }
    this.s = this.clampScale(this.fit * rel);
    this.tx = w / 2 - cx * this.s;
    this.ty = h / 2 - cy * this.s;
    this.apply(false);
  };

  Viewer.prototype.clampScale = function (s) {
    return Math.min(this.max, Math.max(this.fit, s));
  };

  /* Keep the image inside the stage: centred along an axis where it is smaller, its
   * edges not past the stage's where it is larger. */
  Viewer.prototype.clampPan = function () {
    var sw = this.iw * this.s, sh = this.ih * this.s;
    this.tx = sw <= this.w ? (this.w - sw) / 2 : Math.min(0, Math.max(this.w - sw, this.tx));
    this.ty = sh <= this.h ? (this.h - sh) / 2 : Math.min(0, Math.max(this.h - sh, this.ty));
  };

  Viewer.prototype.apply = function (animate) {
    this.clampPan();
    this.img.classList.toggle("mu-anim", !!animate);
    this.img.style.transform = "translate(" + this.tx + "px," + this.ty + "px) scale(" + this.s + ")";
    var zoomed = this.s > this.fit * 1.001;
    this.stage.classList.toggle("mu-zoomed", zoomed);
    if (this.out) this.out.textContent = Math.round(this.s / this.fit * 100) + "%";
    if (this.buttons["in"]) this.buttons["in"].disabled = this.s >= this.max * 0.999;
    if (this.buttons.out) this.buttons.out.disabled = !zoomed;
    if (this.buttons.reset) this.buttons.reset.disabled = !zoomed;
  };

  /* Scale to s keeping the image point under stage point (x, y) where it is. */
  Viewer.prototype.zoomAt = function (s, x, y, animate) {
    s = this.clampScale(s);
    var px = (x - this.tx) / this.s, py = (y - this.ty) / this.s;
    this.s = s;
    this.tx = x - px * s;
    this.ty = y - py * s;
    this.apply(animate);
  };

  Viewer.prototype.toggle = function (x, y) {
    if (this.s > this.fit * 1.001) this.layout(true);
    else this.zoomAt(this.fit * 2.5, x, y, true);
  };

  Viewer.prototype.command = function (name) {
    if (name === "full") { this.fullscreen(); return; }
    if (!this.ready) return;
    if (name === "in") this.zoomAt(this.s * STEP, this.w / 2, this.h / 2, true);
    else if (name === "out") this.zoomAt(this.s / STEP, this.w / 2, this.h / 2, true);
    else if (name === "reset") { this.layout(true); this.apply(true); }
  };

  Viewer.prototype.fullscreen = function () {
    var el = this.root;
    if (document.fullscreenElement === el) { document.exitFullscreen(); return; }
    if (el.requestFullscreen) el.requestFullscreen().catch(function () {});
    else el.classList.toggle("mu-full");
    this.stage.focus();
  };

  Viewer.prototype.local = function (e) {
    var r = this.stage.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  Viewer.prototype.onWheel = function (e) {
    e.preventDefault();
    var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.h : 1);
    var p = this.local(e);
    this.zoomAt(this.s * Math.exp(-dy * 0.0015), p.x, p.y, false);
  };

  Viewer.prototype.onDown = function (e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    try { this.stage.setPointerCapture(e.pointerId); } catch (err) { /* pointer already gone */ }
    var p = this.local(e);
    this.pointers.set(e.pointerId, { x: p.x, y: p.y, x0: p.x, y0: p.y, t: e.timeStamp });
    this.gesture();
    this.stage.classList.add("mu-dragging");
  };

  /* (Re)start the gesture from the pointers now down: a pan with one, a pinch with two. */
  Viewer.prototype.gesture = function () {
    var pts = Array.from(this.pointers.values());
    if (pts.length >= 2) {
      this.pinch = {
        d: Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y) || 1,
        s: this.s, mx: (pts[0].x + pts[1].x) / 2, my: (pts[0].y + pts[1].y) / 2,
        tx: this.tx, ty: this.ty
      };
    } else {
      this.pinch = null;
    }
  };

  Viewer.prototype.onMove = function (e) {
    var p = this.pointers.get(e.pointerId);
    if (!p) return;
    var q = this.local(e), dx = q.x - p.x, dy = q.y - p.y;
    p.x = q.x; p.y = q.y;
    if (this.pinch) {
      var pts = Array.from(this.pointers.values()).slice(0, 2);
      var d = Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y) || 1;
      var mx = (pts[0].x + pts[1].x) / 2, my = (pts[0].y + pts[1].y) / 2;
      var k = this.pinch;
      var s = this.clampScale(k.s * d / k.d);
      // the image point under the starting midpoint follows the fingers' midpoint
      var px = (k.mx - k.tx) / k.s, py = (k.my - k.ty) / k.s;
      this.s = s;
      this.tx = mx - px * s;
      this.ty = my - py * s;
      this.apply(false);
    } else if (this.pointers.size === 1) {
      this.tx += dx; this.ty += dy;
      this.apply(false);
    }
  };

  Viewer.prototype.onUp = function (e) {
    var p = this.pointers.get(e.pointerId);
    if (!p) return;
    this.pointers.delete(e.pointerId);
    if (e.pointerType !== "mouse") this.touchedAt = e.timeStamp;
    if (e.type === "pointerup" && e.pointerType !== "mouse" && !this.pinch
        && Math.hypot(p.x - p.x0, p.y - p.y0) < TAP_SLOP && this.pointers.size === 0) {
      var last = this.lastTap;
      if (last && e.timeStamp - last.t < TAP_MS && Math.hypot(p.x - last.x, p.y - last.y) < TAP_SLOP * 2) {
        this.lastTap = null;
        this.toggle(p.x, p.y);
      } else {
        this.lastTap = { t: e.timeStamp, x: p.x, y: p.y };
      }
    }
    // a finger lifted from a pinch: the other one pans from where it is
    Array.from(this.pointers.values()).forEach(function (q) { q.x0 = q.x; q.y0 = q.y; });
    this.gesture();
    if (this.pointers.size === 0) this.stage.classList.remove("mu-dragging");
  };

  Viewer.prototype.onKey = function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var step = e.shiftKey ? PAN_STEP * 4 : PAN_STEP;
    switch (e.key) {
      case "+": case "=": this.command("in"); break;
      case "-": case "_": this.command("out"); break;
      case "0": this.command("reset"); break;
      case "f": case "F": this.command("full"); break;
      case "ArrowLeft": this.tx += step; this.apply(true); break;
      case "ArrowRight": this.tx -= step; this.apply(true); break;
      case "ArrowUp": this.ty += step; this.apply(true); break;
      case "ArrowDown": this.ty -= step; this.apply(true); break;
      default: return;
    }
    e.preventDefault();
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-viewer]"), function (el) {
      if (!el.muViewer) el.muViewer = new Viewer(el);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
