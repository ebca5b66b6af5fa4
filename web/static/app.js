// Live progress for batches: polls /api/v1/batches/{id} until the batch finishes. No libraries.
(function () {
  "use strict";
  var POLL_MS = 2000;

  function render(el, batch) {
    var pct = Math.round(batch.progress * 100);
    el.querySelector(".bar").value = batch.progress;
    el.querySelector(".label").textContent = pct + " %";
    var scope = el.closest("tr") || el.closest("[data-reload-when-finished]") || document;
    var badge = scope.querySelector('[data-status="' + batch.id + '"] .status');
    if (badge) {
      badge.className = "status " + batch.status;
      badge.textContent = batch.status.replace(/_/g, " ");
    }
    Object.keys(batch.counts).forEach(function (name) {
      scope.querySelectorAll('[data-count="' + name + '"]').forEach(function (cell) {
        cell.textContent = batch.counts[name];
      });
    });
  }

  function poll(el) {
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (batch) {
        render(el, batch);
        if (batch.finished) {
          el.dataset.finished = "true";
          if (el.closest("[data-reload-when-finished]")) { window.location.reload(); }
        } else {
          window.setTimeout(function () { poll(el); }, POLL_MS);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(el); }, POLL_MS * 3); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('.progress[data-finished="false"]').forEach(function (el) {
      window.setTimeout(function () { poll(el); }, POLL_MS);
    });
  });
})();
