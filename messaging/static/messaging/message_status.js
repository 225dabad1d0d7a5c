// Follows a message's status on its admin page without a reload: polls the small JSON endpoint
// (data-status-url) every 2 seconds and redraws the badge, the error and the status history.
// A static file: the CSP allows no inline script.
"use strict";
(function () {
  const INTERVAL_MS = 2000;
  const GIVE_UP_MS = 15 * 60 * 1000; // a page left open does not poll forever
  const FINAL = ["read", "received"]; // nothing can move these further

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.append(td);
  }

  function init() {
    const box = document.getElementById("wa-status");
    if (!box || !box.dataset.statusUrl) return;
    const badge = document.getElementById("wa-status-badge");
    const error = document.getElementById("wa-status-error");
    const rows = document.getElementById("wa-status-rows");
    const started = Date.now();
    let timer = null;

    function draw(state) {
      if (badge) {
        badge.textContent = state.status_display;
        badge.className = "wa-badge wa-badge-" + state.tone;
        badge.dataset.status = state.status;
      }
      if (error) error.textContent = [state.error_code, state.error_title].filter(Boolean).join(" ");
      if (rows && state.history.length) {
        rows.replaceChildren(...state.history.map((event) => {
          const row = document.createElement("tr");
          cell(row, event.status_display || event.status);
          cell(row, event.timestamp_display || "—");
          cell(row, [event.error_code, event.error_title].filter(Boolean).join(" "));
          return row;
        }));
      }
    }

    async function poll() {
      try {
        const response = await fetch(box.dataset.statusUrl, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.ok) {
          const state = await response.json();
          draw(state);
          if (FINAL.includes(state.status)) return;
        }
      } catch (e) {
        // A network blip: try again on the next tick.
      }
      if (Date.now() - started < GIVE_UP_MS) timer = window.setTimeout(poll, INTERVAL_MS);
    }

    if (badge && FINAL.includes(badge.dataset.status)) return;
    timer = window.setTimeout(poll, INTERVAL_MS);
    window.addEventListener("pagehide", () => window.clearTimeout(timer));
  }

  document.addEventListener("DOMContentLoaded", init);
})();
