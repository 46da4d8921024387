// Instant results: as the form changes, the page is recomputed on the server (the same URL the
// submit button would load) and the result swapped in; the address bar keeps the shareable URL.
(function () {
  "use strict";
  var form = document.querySelector("form.landcalc");
  if (!form || !window.fetch) { return; }
  var timer = null, seq = 0;
  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (String(v).trim() !== "") { params.set(k, v); } });
    return params.toString();
  }
  function refresh() {
    var q = query(), mine = ++seq;
    if (!/(^|&)industry_code=/.test(q)) { return; }
    fetch(form.action + "?" + q, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      if (mine !== seq) { return; }  // a newer change is on its way
      var doc = new DOMParser().parseFromString(html, "text/html");
      var target = document.getElementById("landcalc-output");
      var fresh = doc.getElementById("landcalc-output");
      if (target && fresh) { target.replaceWith(fresh); }
      history.replaceState(null, "", form.action + "?" + q);
    });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 350); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 50); });
})();
