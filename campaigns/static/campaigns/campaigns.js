// Campaign page: poll the progress endpoint every 2 s (every 10 s once finished) and redraw
// the bar, the counts, the failure reasons, the time to finish and which buttons show.
// A static file so the CSP needs no inline script; the bar is SVG attributes, not inline styles.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("wa-campaign");
  if (!root || !root.dataset.progressUrl) return;

  // Counts grouped like the page's numbers (es 1.234, en 1,234): the page's language picks the separators.
  const grouped = new Intl.NumberFormat(document.documentElement.lang || undefined, { useGrouping: "always" });
  const number = (value) => (typeof value === "number" ? grouped.format(value) : String(value));

  const setText = (id, value) => {
    const node = document.getElementById(id);
    if (node && value !== undefined && value !== null) node.textContent = String(value);
  };

  const render = (data) => {
    (data.segments || []).forEach((segment) => {
      root.querySelectorAll(`rect[data-seg="${segment.key}"]`).forEach((rect) => {
        rect.setAttribute("x", segment.x);
        rect.setAttribute("width", segment.width);
        const title = rect.querySelector("title");
        if (title) title.textContent = `${segment.label}: ${number(segment.count)}`;
      });
    });
    Object.entries(data.counts || {}).forEach(([key, value]) => {
      root.querySelectorAll(`[data-count="${key}"]`).forEach((cell) => { cell.textContent = number(value); });
    });
    setText("wa-percent", `${data.percent}%`);
    setText("wa-done", number(data.done));
    setText("wa-total", number(data.total));
    setText("wa-eta", data.eta_text);
    setText("wa-rate", data.rate_text);
    const status = document.getElementById("wa-status");
    if (status) {
      status.textContent = data.status_label;
      status.className = `wa-badge wa-badge-${data.status_tone || "grey"}`;
    }
    const throttled = document.getElementById("wa-throttled");
    if (throttled) throttled.hidden = !data.throttled;
    const pause = document.getElementById("wa-pause-reason");
    if (pause) {
      pause.textContent = data.pause_reason || "";
      pause.hidden = !data.pause_reason;
    }
    const failures = document.getElementById("wa-failures");
    if (failures) {
      failures.replaceChildren();
      const items = data.top_failures || [];
      if (!items.length) {
        const empty = document.createElement("li");
        empty.className = "wa-empty";
        empty.textContent = failures.dataset.empty || "";
        failures.appendChild(empty);
      }
      items.forEach((failure) => {
        const item = document.createElement("li");
        item.textContent = `${failure.reason} — ${number(failure.count)}`;
        failures.appendChild(item);
      });
    }
    const failed = (data.counts && data.counts.failed) || 0;
    root.querySelectorAll("[data-show-when]").forEach((node) => {
      // "Retry failed recipients" only when some recipient failed.
      node.hidden = !node.dataset.showWhen.split(" ").includes(data.status) ||
        (node.dataset.needsFailures === "1" && failed === 0);
    });
    root.dataset.status = data.status;
    root.dataset.finished = data.finished ? "1" : "0";
  };

  const poll = async () => {
    try {
      const response = await fetch(root.dataset.progressUrl, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      if (response.ok) render(await response.json());
    } catch (error) {
      // Offline for a moment: keep the last numbers and try again.
    }
    setTimeout(poll, root.dataset.finished === "1" ? 10000 : 2000);
  };
  setTimeout(poll, 2000);
});
