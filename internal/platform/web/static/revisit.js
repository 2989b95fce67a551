// Return-visit task page (internal/revisit/web.go): the customer's signature pad for an
// on-site visit and the do-not-disturb warning before a phone call. The page works
// without it: the server renders the warning, and the record form posts as it is (an
// on-site visit then lacks the signature, which the service refuses naming the field).
(function () {
  "use strict";

  // ---- signature pad: a canvas drawn on with pointer events (mouse, pen or touch) ----
  function SignaturePad(root) {
    var canvas = root.querySelector("canvas");
    var field = document.getElementById(root.getAttribute("data-field") || "signature-data");
    if (!canvas || !field || !canvas.getContext) { return; }
    var ctx = canvas.getContext("2d");
    var drawing = false, last = null, strokes = 0;

    function reset() {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111111";
      strokes = 0;
      field.value = "";
      root.classList.remove("rv-signed");
    }
    // point maps a pointer position to canvas pixels (the canvas may be drawn scaled).
    function point(ev) {
      var r = canvas.getBoundingClientRect();
      var sx = r.width ? canvas.width / r.width : 1, sy = r.height ? canvas.height / r.height : 1;
      return { x: (ev.clientX - r.left) * sx, y: (ev.clientY - r.top) * sy };
    }
    function start(ev) {
      drawing = true;
      last = point(ev);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      strokes++;
      root.classList.add("rv-signed");
    }
    function move(ev) {
      if (!drawing) { return; }
      var p = point(ev);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    }
    function end() {
      if (!drawing) { return; }
      drawing = false;
      last = null;
      field.value = canvas.toDataURL("image/png");
    }
    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", function (ev) {
        ev.preventDefault();
        if (canvas.setPointerCapture && ev.pointerId !== undefined) {
          try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic pointers */ }
        }
        start(ev);
      });
      canvas.addEventListener("pointermove", function (ev) { if (drawing) { ev.preventDefault(); move(ev); } });
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
      canvas.addEventListener("pointerleave", end);
    } else { // older browsers: mouse and touch events
      canvas.addEventListener("mousedown", function (ev) { ev.preventDefault(); start(ev); });
      canvas.addEventListener("mousemove", move);
      window.addEventListener("mouseup", end);
      canvas.addEventListener("touchstart", function (ev) { ev.preventDefault(); start(ev.touches[0]); }, { passive: false });
      canvas.addEventListener("touchmove", function (ev) { ev.preventDefault(); move(ev.touches[0]); }, { passive: false });
      canvas.addEventListener("touchend", end);
    }
    var clear = root.querySelector("[data-signature-clear]");
    if (clear) {
      clear.hidden = false;
      clear.addEventListener("click", function (ev) { ev.preventDefault(); reset(); });
    }
    var form = root.closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        // The pad exports what was drawn; an untouched pad sends nothing.
        field.value = strokes > 0 ? canvas.toDataURL("image/png") : "";
      });
    }
    // A form sent back with errors keeps the signature drawn before: draw it again.
    var kept = field.value;
    reset();
    if (/^data:image\/png;base64,/.test(kept)) {
      var img = new Image();
      img.onload = function () {
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        strokes++;
        field.value = kept;
        root.classList.add("rv-signed");
      };
      img.src = kept;
    }
    root.classList.add("rv-pad-ready");
  }

  // ---- do-not-disturb: re-check the customer's local time while the page stays open ----
  // data-dnd-windows="12:00-14:00,21:00-09:00" and data-dnd-tz="Asia/Shanghai".
  function minutesIn(tz, now) {
    try {
      var parts = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false })
        .formatToParts(now);
      var h = 0, m = 0;
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "hour") { h = parseInt(parts[i].value, 10) % 24; }
        if (parts[i].type === "minute") { m = parseInt(parts[i].value, 10); }
      }
      return h * 60 + m;
    } catch (e) {
      return -1;
    }
  }
  function parseHM(s) {
    var m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
    return m ? parseInt(m[1], 10) * 60 + parseInt(m[2], 10) : -1;
  }
  function inWindows(spec, minute) {
    var ws = spec.split(",");
    for (var i = 0; i < ws.length; i++) {
      var p = ws[i].split("-");
      if (p.length !== 2) { continue; }
      var a = parseHM(p[0]), b = parseHM(p[1]);
      if (a < 0 || b < 0 || a === b) { continue; }
      if (a < b ? (minute >= a && minute < b) : (minute >= a || minute < b)) { return true; }
    }
    return false;
  }
  function DNDWatch(box) {
    var spec = box.getAttribute("data-dnd-windows") || "", tz = box.getAttribute("data-dnd-tz") || "Asia/Shanghai";
    var method = document.getElementById("record-method");
    function update() {
      var inside = box.getAttribute("data-dnd") === "1";
      if (spec) {
        var m = minutesIn(tz, new Date());
        if (m >= 0) { inside = inWindows(spec, m); }
      }
      var phone = !method || method.value === "phone";
      box.hidden = !(inside && phone);
      box.setAttribute("data-dnd", inside ? "1" : "0");
    }
    if (method) { method.addEventListener("change", update); }
    window.setInterval(update, 60000);
    update();
  }

  // ---- the record form: show the signature pad only for an on-site visit ----
  function MethodToggle(sel) {
    function update() {
      var els = document.querySelectorAll("[data-method-only]");
      for (var i = 0; i < els.length; i++) {
        els[i].hidden = els[i].getAttribute("data-method-only") !== sel.value;
      }
    }
    sel.addEventListener("change", update);
    update();
  }

  function init() {
    var pads = document.querySelectorAll("[data-signature-pad]");
    for (var i = 0; i < pads.length; i++) { SignaturePad(pads[i]); }
    var dnd = document.getElementById("dnd-warning");
    if (dnd) { DNDWatch(dnd); }
    var method = document.getElementById("record-method");
    if (method) { MethodToggle(method); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
