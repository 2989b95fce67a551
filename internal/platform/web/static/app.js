// Kefu web shell: small progressive enhancements; every form works without it.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });
  // Confirm destructive actions that carry data-confirm.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    var msg = f && f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // fetch() helper for same-origin JSON calls made by pages: adds the CSRF header.
  window.kefu = {
    csrf: function () { return document.body.getAttribute("data-csrf") || ""; },
    api: function (method, url, body) {
      return fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.kefu.csrf() },
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
    }
  };
})();

// ===== ticket workspace (internal/ticket/web.go; owned by the workspace) =====
// Canned replies insert into the reply box; the queue and request pages listen to
// /tickets/stream (Server-Sent Events) and refresh the queue rows in place.
(function () {
  "use strict";
  var LIVE_TOPICS = ["ticket.created", "ticket.assigned", "ticket.sla_warning", "ticket.sla_breach",
    "ticket.status_changed", "ticket.updated", "ticket.resolved", "ticket.closed", "ticket.reopened"];
  var TOAST_TOPICS = { "ticket.created": "created", "ticket.assigned": "assigned", "ticket.sla_warning": "sla_warning",
    "ticket.sla_breach": "sla_breach" };

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var t = document.createElement("div");
    t.className = "toast";
    t.textContent = text;
    box.appendChild(t);
    window.setTimeout(function () { t.classList.add("toast-out"); }, 5000);
    window.setTimeout(function () { if (t.parentNode) { t.parentNode.removeChild(t); } }, 5600);
  }

  function insertAtCursor(ta, text) {
    var start = ta.selectionStart, end = ta.selectionEnd;
    if (typeof start === "number" && ta.value) {
      ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
      ta.selectionStart = ta.selectionEnd = start + text.length;
    } else {
      ta.value = text;
    }
    ta.focus();
  }

  // Canned replies: choosing one inserts its text (placeholders already filled in by
  // the server) into the reply box instead of reloading the page.
  document.addEventListener("change", function (ev) {
    var sel = ev.target;
    if (!sel || sel.id !== "canned-select") { return; }
    var opt = sel.options[sel.selectedIndex];
    var ta = document.getElementById(sel.getAttribute("data-target") || "reply-body");
    if (opt && opt.getAttribute("data-body") && ta) {
      insertAtCursor(ta, opt.getAttribute("data-body"));
      sel.selectedIndex = 0;
    }
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target;
    if (b && b.id === "canned-apply") { ev.preventDefault(); }
  });

  // Ctrl+Enter (Cmd+Enter) in the reply or note box sends it.
  document.addEventListener("keydown", function (ev) {
    var ta = ev.target;
    if (ev.key !== "Enter" || !(ev.ctrlKey || ev.metaKey) || !ta || ta.tagName !== "TEXTAREA" || !ta.form) { return; }
    if (ta.form.id === "reply" || ta.form.id === "note") {
      ev.preventDefault();
      if (ta.form.requestSubmit) { ta.form.requestSubmit(); } else { ta.form.submit(); }
    }
  });

  // Knowledge-base suggestions beside the reply box (optional; the link works without JS).
  function kbSuggest() {
    var box = document.getElementById("kb-suggestions");
    if (!box || !window.fetch) { return; }
    var q = box.getAttribute("data-q");
    if (!q) { return; }
    fetch("/api/v1/kb/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) { return; }
        var items = Array.isArray(j) ? j : (j.items || j.articles || []);
        var list = document.getElementById("kb-list");
        if (!list || !items.length) { return; }
        list.textContent = "";
        items.slice(0, 5).forEach(function (a) {
          var li = document.createElement("li");
          var link = document.createElement("a");
          link.href = a.url || ("/kb/" + a.id);
          link.textContent = a.title || ("#" + a.id);
          link.target = "_blank";
          link.rel = "noopener";
          li.appendChild(link);
          var form = document.getElementById("kb-link-form");
          if (form && a.id) {
            var btn = document.createElement("button");
            btn.type = "button";
            btn.className = "link kb-link";
            btn.textContent = box.getAttribute("data-link-label") || "+";
            btn.addEventListener("click", function () {
              document.getElementById("kb-link-article").value = String(a.id);
              form.submit();
            });
            li.appendChild(document.createTextNode(" "));
            li.appendChild(btn);
          }
          list.appendChild(li);
        });
        box.hidden = false;
      })
      .catch(function () {});
  }

  // Queue page: re-fetch only the table rows (?fragment=queue) after an event.
  var refreshTimer = null;
  function refreshQueue(root) {
    if (refreshTimer) { return; }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      var u = new URL(window.location.href);
      u.searchParams.set("fragment", "queue");
      fetch(u.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          var body = document.getElementById("queue-rows");
          if (html === null || !body) { return; }
          body.innerHTML = html;
          root.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () {});
    }, 300);
  }

  function startLive() {
    var root = document.querySelector("[data-live]");
    if (!root || !window.EventSource) { return; }
    var kind = root.getAttribute("data-live");
    var ticketID = root.getAttribute("data-ticket-id");
    var es = new EventSource(root.getAttribute("data-stream") || "/tickets/stream");
    function handle(topic, raw) {
      var ev = null;
      try { ev = JSON.parse(raw); } catch (e) { ev = null; }
      if (ev && ev.topic) { topic = ev.topic; }
      if (!topic) { return; }
      var num = ev && ev.data && ev.data.number ? " " + ev.data.number : "";
      var key = TOAST_TOPICS[topic];
      if (kind === "tickets") {
        if (key) { toast((root.getAttribute("data-msg-" + key) || topic) + num); }
        refreshQueue(root);
      } else if (kind === "ticket" && ev && String(ev.id) === ticketID) {
        var note = document.getElementById("live-changed");
        if (note) { note.hidden = false; }
        if (key) { toast((root.getAttribute("data-msg-" + key) || topic) + num); }
      }
    }
    es.onmessage = function (m) { handle("", m.data); };
    LIVE_TOPICS.forEach(function (tp) {
      es.addEventListener(tp, function (m) { handle(tp, m.data); });
    });
    window.addEventListener("beforeunload", function () { es.close(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { kbSuggest(); startLive(); });
  } else {
    kbSuggest();
    startLive();
  }
})();
// ===== end ticket workspace =====
