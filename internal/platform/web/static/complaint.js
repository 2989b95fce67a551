// Complaint record page (internal/complaint/web.go): the Print button prints the record
// form with the print stylesheet; without JavaScript its link opens the print view.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (!el || typeof window.print !== "function") { return; }
    ev.preventDefault();
    window.print();
  });
})();
