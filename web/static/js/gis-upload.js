// Uploads the GIS file with a progress bar, then opens the dry-run preview. Without JavaScript the
// form posts normally and the server redirects to the same preview.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("gis-upload");
  if (!form || !window.XMLHttpRequest) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = bar.value + "%";
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server reads the file
      status.textContent = form.dataset.checking || "…";
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {error: xhr.statusText}; }
      if (xhr.status === 200 && body.preview) {
        window.location.assign(body.preview);
      } else {
        bar.hidden = true;
        // Refusals come as {"errors": [{field, message, expected}]} (web/refusals.py).
        status.textContent = (body.errors || []).map(function (e) { return e.message; }).join("；")
          || body.error || ("HTTP " + xhr.status);
        status.className = "error";
      }
    });
    xhr.addEventListener("error", function () {
      bar.hidden = true;
      status.textContent = "network error";
      status.className = "error";
    });
    xhr.send(new FormData(form));
  });
});
