// Lead dashboard: swap in the fragments the server pushes (Server-Sent Events), tick waits between pushes.
(function () {
  "use strict";
  var parts = ["totals", "alerts", "queues", "operators", "states", "chart"];
  var status = document.getElementById("status");
  var skew = 0; // server clock minus browser clock, from the last update
  var received = Date.now() / 1000;

  function apply(update) {
    parts.forEach(function (name) {
      var el = document.getElementById(name);
      if (el && typeof update[name] === "string") el.innerHTML = update[name];
    });
    received = Date.now() / 1000;
    skew = update.generated_at - received;
    status.textContent = "live";
    status.className = "";
    status.dataset.generated = update.generated_at;
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll('#queues td[data-k="longest_wait"][data-live="1"]').forEach(function (td) {
      td.textContent = Math.round(parseFloat(td.dataset.base) + now - received) + " s";
    });
    document.querySelectorAll("#operators td[data-since]").forEach(function (td) {
      if (td.dataset.since) td.textContent = Math.max(0, Math.round(now + skew - parseFloat(td.dataset.since))) + " s";
    });
  }

  var source = new EventSource(document.location.pathname.replace(/\/$/, "") + "/stream");
  source.onmessage = function (event) { apply(JSON.parse(event.data)); };
  source.onerror = function () { status.textContent = "reconnecting…"; status.className = "stale"; };
  setInterval(tick, 1000);
})();
