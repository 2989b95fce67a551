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
