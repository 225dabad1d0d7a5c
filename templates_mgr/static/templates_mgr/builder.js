// Template builder: the live WhatsApp preview, character counters, one example input per body
// variable, and showing only the inputs the chosen header and button types need.
// A static file because the CSP allows no inline script. The preview follows the same rules as
// templates_mgr/builder.py (whatsapp_html, render_preview), so the builder and the detail page agree.
"use strict";
(() => {
  const root = document.getElementById("wa-builder");
  const form = document.getElementById("wa-builder-form");
  if (!root || !form) return;

  const VARIABLE = /\{\{([1-9][0-9]*)\}\}/g;
  const MAX_EXAMPLE_SLOTS = 100; // builder.MAX_EXAMPLE_SLOTS
  const MEDIA = ["image", "video", "document"];
  const BUTTON_ICONS = { QUICK_REPLY: "↩", URL: "↗", PHONE_NUMBER: "✆" };
  const MEDIA_ICONS = { image: "🖼", video: "▶", document: "📄" };
  // *bold*, _italic_, ~strike~: markers that touch no letter or digit outside and no space inside.
  const marker = (char, tag) => {
    const c = char === "*" ? "\\*" : char;
    return [new RegExp(`(?<![\\p{L}\\p{N}_${c}])${c}(?=\\S)([^${c}\\n]+?)(?<=\\S)${c}(?![\\p{L}\\p{N}_${c}])`, "gu"), tag];
  };
  const FORMATS = [[/```([\s\S]+?)```/g, "code"], marker("*", "strong"), marker("_", "em"), marker("~", "s")];
  // Remembered examples, so that deleting {{3}} and typing it again brings its example back.
  const remembered = new Map();

  const $ = (id) => document.getElementById(id);
  const value = (name) => {
    const element = form.elements.namedItem(name);
    return element && typeof element.value === "string" ? element.value : "";
  };
  const placeholders = (text) => [...text.matchAll(VARIABLE)].map((match) => Number(match[1]));
  const slots = (text) => {
    const numbers = placeholders(text);
    return numbers.length ? Math.min(Math.max(...numbers), MAX_EXAMPLE_SLOTS) : 0;
  };
  const escapeHtml = (text) =>
    text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" })[c]);

  // Text as WhatsApp shows it: examples in place of variables, a variable without one highlighted.
  function whatsappHtml(text, values, formatting) {
    const marked = text
      .replace(/[\ue000-\ue003]/g, "")
      .replace(VARIABLE, (match, n) => (values[n] ? `\ue002${n}\ue003` : `\ue000${n}\ue001`));
    let html = escapeHtml(marked);
    if (formatting) {
      for (const [pattern, tag] of FORMATS) html = html.replace(pattern, `<${tag}>$1</${tag}>`);
    }
    html = html.replace(/\ue000([0-9]+)\ue001/g, (match, n) => `<span class="wa-var">{{${n}}}</span>`);
    html = html.replace(
      /\ue002([0-9]+)\ue003/g,
      (match, n) => `<span class="wa-example" title="{{${n}}}">${escapeHtml(values[n])}</span>`,
    );
    return html.replace(/\n/g, "<br>");
  }

  // --- one example input per body variable ------------------------------------------------
  function exampleRow(number) {
    const id = `id_body_example_${number}`;
    const wrapper = document.createElement("div");
    wrapper.className = "wa-example-row";
    wrapper.dataset.exampleRow = String(number);
    const row = document.createElement("div");
    row.className = `form-row field-body_example_${number}`;
    const flex = document.createElement("div");
    flex.className = "flex-container";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = root.dataset.exampleLabel.replace("{{0}}", `{{${number}}}`);
    const input = document.createElement("input");
    input.type = "text";
    input.name = `body_example_${number}`;
    input.id = id;
    input.className = "vTextField wa-example-input";
    input.dataset.variable = String(number);
    input.value = remembered.get(number) || "";
    flex.append(label, input);
    row.append(flex);
    wrapper.append(row);
    return wrapper;
  }

  function syncExamples() {
    const container = $("wa-body-examples");
    if (!container) return;
    const wanted = slots(value("body_text"));
    for (const row of container.querySelectorAll("[data-example-row]")) {
      const number = Number(row.dataset.exampleRow);
      const input = row.querySelector("input");
      if (input) remembered.set(number, input.value);
      if (number > wanted) row.remove();
    }
    for (let number = 1; number <= wanted; number += 1) {
      if (container.querySelector(`[data-example-row="${number}"]`)) continue;
      const later = [...container.querySelectorAll("[data-example-row]")].find(
        (row) => Number(row.dataset.exampleRow) > number,
      );
      container.insertBefore(exampleRow(number), later || null);
    }
    container.hidden = wanted === 0;
  }

  function bodyExamples() {
    const values = {};
    for (const input of form.querySelectorAll("input.wa-example-input")) {
      if (input.value) values[input.dataset.variable] = input.value;
    }
    return values;
  }

  // --- which inputs show --------------------------------------------------------------------
  function syncVisibility() {
    const headerType = value("header_type");
    for (const row of form.querySelectorAll(".wa-when-header-text")) row.hidden = headerType !== "text";
    for (const row of form.querySelectorAll(".wa-when-header-media")) row.hidden = !MEDIA.includes(headerType);
    const exampleRow = form.querySelector(".wa-header-example-row");
    if (exampleRow) {
      const needed = placeholders(value("header_text")).length > 0 || value("header_example") !== "";
      exampleRow.hidden = headerType !== "text" || !(needed || exampleRow.querySelector(".errorlist"));
    }
    let offeredEmptyRow = false;
    for (const row of form.querySelectorAll("[data-button-row]")) {
      const n = row.dataset.buttonRow;
      const type = value(`button_${n}_type`);
      const used = ["type", "text", "url", "url_example", "phone_number"].some((a) => value(`button_${n}_${a}`) !== "");
      if (used || row.querySelector(".errorlist")) {
        row.hidden = false;
      } else {
        row.hidden = offeredEmptyRow;
        offeredEmptyRow = true;
      }
      for (const cell of row.querySelectorAll("[data-show-for]")) {
        cell.hidden = !type || !cell.dataset.showFor.split(" ").includes(type);
      }
      const example = row.querySelector(".wa-url-example");
      if (example && type === "URL") {
        example.hidden = !(placeholders(value(`button_${n}_url`)).length || value(`button_${n}_url_example`));
      }
    }
  }

  // --- counters -------------------------------------------------------------------------------
  function syncCounters() {
    for (const counter of document.querySelectorAll(".wa-counter[data-for]")) {
      const input = $(counter.dataset.for);
      const max = Number(counter.dataset.max);
      const length = input ? [...input.value].length : 0; // code points, as the server counts
      counter.textContent = `${length} / ${max}`;
      counter.classList.toggle("wa-over", length > max);
    }
    const count = $("wa-body-variable-count");
    if (count) count.textContent = String(new Set(placeholders(value("body_text"))).size);
  }

  // --- the bubble ----------------------------------------------------------------------------
  function renderHeader() {
    const header = $("wa-preview-header");
    const type = value("header_type");
    header.replaceChildren();
    if (type === "text") {
      const text = value("header_text");
      header.innerHTML = whatsappHtml(text, { 1: value("header_example") }, false);
      header.hidden = text.trim() === "";
    } else if (MEDIA.includes(type)) {
      const box = document.createElement("div");
      box.className = `wa-media wa-media-${type}`;
      const icon = document.createElement("span");
      icon.className = "wa-media-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = MEDIA_ICONS[type];
      const label = document.createElement("span");
      label.className = "wa-media-label";
      label.textContent = root.dataset[`media${type[0].toUpperCase()}${type.slice(1)}`] || type;
      box.append(icon, " ", label);
      const url = value("header_media_url").trim();
      if (url) {
        const file = document.createElement("span");
        file.className = "wa-media-file";
        file.textContent = url.length > 48 ? `${url.slice(0, 47)}…` : url;
        box.append(" ", file);
      }
      header.append(box);
      header.hidden = false;
    } else {
      header.hidden = true;
    }
  }

  function renderButtons() {
    const container = $("wa-preview-buttons");
    container.replaceChildren();
    for (const row of form.querySelectorAll("[data-button-row]")) {
      const n = row.dataset.buttonRow;
      const type = value(`button_${n}_type`);
      if (!type) continue;
      const button = document.createElement("div");
      button.className = "wa-bubble-button";
      button.dataset.type = type;
      const icon = document.createElement("span");
      icon.className = "wa-button-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = BUTTON_ICONS[type] || "";
      button.append(icon, ` ${value(`button_${n}_text`)}`);
      container.append(button);
    }
    container.hidden = container.children.length === 0;
  }

  function renderPreview() {
    renderHeader();
    $("wa-preview-body").innerHTML = whatsappHtml(value("body_text").trim(), bodyExamples(), true);
    const footer = $("wa-preview-footer");
    footer.textContent = value("footer_text");
    footer.hidden = value("footer_text").trim() === "";
    renderButtons();
  }

  function update() {
    syncExamples();
    syncVisibility();
    syncCounters();
    renderPreview();
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
