// Polls the status of a statement job and shows progress, then the download links.
(function () {
  "use strict";
  var box = document.getElementById("statement-job");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var part = function (role) { return box.querySelector('[data-role="' + role + '"]'); };
  var delay = 1000;

  function show(data) {
    part("label").textContent = data.label;
    part("progress").value = data.progress;
    part("progress").textContent = data.progress + "%";
    var finished = data.status === "done" || data.status === "failed";
    part("progress").hidden = finished;
    part("waiting").hidden = finished;
    part("links").hidden = data.status !== "done";
    part("failed").hidden = data.status !== "failed";
    if (data.pdf_url) { part("pdf").href = data.pdf_url; }
    if (data.xlsx_url) { part("xlsx").href = data.xlsx_url; }
    return finished;
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!show(data)) { window.setTimeout(poll, delay); }
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);  // back off while the server is unreachable
        window.setTimeout(poll, delay);
      });
  }

  var status = box.getAttribute("data-status");
  if (status !== "done" && status !== "failed") { window.setTimeout(poll, delay); }
})();
