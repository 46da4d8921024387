// The download links carry the park, date and encoding chosen above them.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("export-form");
  if (!form) return;
  function update() {
    var query = new URLSearchParams(new FormData(form)).toString();
    document.querySelectorAll("a.export-link").forEach(function (a) {
      a.href = a.href.split("?")[0] + "?" + query;
    });
  }
  form.addEventListener("change", update);
  update();
});
