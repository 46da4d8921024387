// Small behaviours any page may use, declared in the markup, so that no page needs inline script or
// inline style (the Content-Security-Policy forbids both):
//   data-print       a button that opens the print dialog (print or save as PDF)
//   data-back        a link that goes back one page
//   data-autosubmit  a form field that submits its form when changed
//   data-flex        an element whose CSS flex-grow is the attribute's value (stacking-plan widths)
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (history.length > 1) { e.preventDefault(); history.back(); }
    });
  });
  document.querySelectorAll("[data-autosubmit]").forEach(function (f) {
    f.addEventListener("change", function () { f.form.submit(); });
  });
  document.querySelectorAll("[data-flex]").forEach(function (el) {
    el.style.flex = el.getAttribute("data-flex") + " 1 0";  // CSSOM writes are allowed by the CSP
  });
});
