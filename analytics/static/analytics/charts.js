// Draws the conversation analytics charts from the page's json_script block.
// A static file (the CSP allows no inline script); Chart.js is vendored next to it.
"use strict";

(function () {
  const PALETTE = [
    "#1a73e8", "#1e8e3e", "#f9ab00", "#d93025", "#9334e6",
    "#12b5cb", "#e8710a", "#5f6368", "#b31412", "#188038",
    "#a142f4", "#f538a0", "#4285f4", "#34a853", "#fbbc04",
  ];

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function readData() {
    const node = document.getElementById("wa-analytics-data");
    if (!node) return {};
    try {
      return JSON.parse(node.textContent) || {};
    } catch (error) {
      console.warn("analytics: unreadable chart data", error);
      return {};
    }
  }

  function textColour() {
    const value = getComputedStyle(document.body).getPropertyValue("--body-fg").trim();
    return value || "#333";
  }

  function config(chart) {
    const horizontal = Boolean(chart.horizontal);
    const stacked = Boolean(chart.stacked);
    const datasets = chart.datasets.map((dataset, index) => ({
      label: dataset.label,
      data: dataset.data,
      backgroundColor: colour(index),
      borderColor: colour(index),
      borderWidth: 0,
    }));
    const valueAxis = { beginAtZero: true, stacked: stacked, ticks: { precision: 0, color: textColour() } };
    const labelAxis = { stacked: stacked, ticks: { color: textColour(), autoSkip: true, maxRotation: 0 } };
    // On a phone a long label ("+57 324 555 0101 · Comercial Andina") would be cut at the canvas's edge: the
    // horizontal charts show it on two lines there instead.
    const narrow = window.matchMedia("(max-width: 600px)").matches;
    const labels = horizontal && narrow
      ? chart.labels.map((label) => (typeof label === "string" && label.includes(" · ") ? label.split(" · ") : label))
      : chart.labels;
    return {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, labels: { color: textColour() } },
          tooltip: { enabled: true },
        },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      },
    };
  }

  function draw(data) {
    if (typeof window.Chart === "undefined") {
      console.warn("analytics: Chart.js did not load");
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const chart = data[canvas.dataset.chart];
      const box = canvas.parentElement;
      if (!chart || !chart.labels || chart.labels.length === 0) {
        canvas.dataset.drawn = "empty";
        if (box) box.classList.add("wa-canvas-empty");
        return;
      }
      new window.Chart(canvas, config(chart));
      canvas.dataset.drawn = "true";
      canvas.dataset.labels = String(chart.labels.length);
      canvas.dataset.datasets = String(chart.datasets.length);
      canvas.dataset.total = String(
        chart.datasets.reduce((sum, dataset) => sum + dataset.data.reduce((a, b) => a + (b || 0), 0), 0)
      );
    });
    document.body.dataset.chartsReady = "true";
  }

  // Changing a filter reloads the page with the new query string (the server computes every chart).
  function autoSubmit() {
    const form = document.getElementById("wa-filter-form");
    if (!form) return;
    const wabas = form.querySelector("select[name=waba]");
    form.querySelectorAll("select, input[type=checkbox], input[type=date]").forEach((input) => {
      input.addEventListener("change", () => {
        // Another client: drop the chosen WABAs, they belong to the previous one.
        if (input.name === "client" && wabas) {
          Array.from(wabas.options).forEach((option) => { option.selected = false; });
        }
        form.requestSubmit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    autoSubmit();
    draw(readData());
  });
})();
