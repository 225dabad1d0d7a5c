// The message composer (admin → Messages → Compose). A static file: the CSP allows no inline script.
//
// - shows the part of the form the chosen type needs;
// - offers only the templates of the chosen number's WABA (or Contacto Virtual client) and, once one is
//   picked, an input for each of its variables (named like the server expects: tpl_header_1, tpl_body_2,
//   tpl_button_0, tpl_header_media, …);
// - draws a preview bubble as you type;
// - cannot send twice: the button is disabled on the first submit (the form's idempotency key also makes
//   the server return the first message for a repeated post).
"use strict";
(function () {
  function init() {
    const form = document.getElementById("wa-compose-form");
    if (!form) return;
    // Words the preview shows come translated from the page (data-… attributes on the bubble).
    const bubble = document.getElementById("wa-preview-bubble");
    const labels = bubble ? bubble.dataset : {};
    const mediaLabel = (type) => labels["media" + type[0].toUpperCase() + type.slice(1)] || type;
    const dataNode = document.getElementById("wa-composer-data");
    const data = dataNode ? JSON.parse(dataNode.textContent) : { numbers: {}, templates: {} };
    const field = (name) => form.elements.namedItem(name);
    const value = (name) => {
      const element = field(name);
      if (!element) return "";
      if (element.type === "checkbox") return element.checked;
      return (element.value || "").trim();
    };
    const typeSelect = field("type");
    const kindSelect = field("interactive_type");
    const numberSelect = field("phone_number");
    const templateSelect = field("template");
    const inputsBox = document.getElementById("wa-template-inputs");

    // --- which part of the form shows ------------------------------------------------------------
    function showParts() {
      const type = typeSelect.value;
      form.querySelectorAll(".wa-part").forEach((part) => {
        part.hidden = !part.dataset.types.split(" ").includes(type);
      });
      form.querySelectorAll(".wa-subpart[data-media]").forEach((part) => {
        part.hidden = !part.dataset.media.split(" ").includes(type);
      });
      const number = data.numbers[numberSelect ? numberSelect.value : ""];
      form.querySelectorAll(".wa-subpart[data-capability]").forEach((part) => {
        part.hidden = !number || !number[part.dataset.capability];
      });
      const kind = kindSelect ? kindSelect.value || "button" : "button";
      form.querySelectorAll(".wa-subpart[data-kinds]").forEach((part) => {
        part.hidden = !part.dataset.kinds.split(" ").includes(kind);
      });
    }

    // --- templates ------------------------------------------------------------------------------------
    function templateFits(template, number) {
      if (!number) return true;
      if (!template.per_waba) return !number.templates_per_waba && template.client === number.client;
      return template.waba !== null && template.waba === number.waba;
    }

    function filterTemplates() {
      if (!templateSelect) return;
      const number = data.numbers[numberSelect.value];
      let visible = 0;
      Array.from(templateSelect.options).forEach((option) => {
        if (!option.value) return;
        const template = data.templates[option.value];
        const fits = template ? templateFits(template, number) : false;
        option.hidden = !fits;
        option.disabled = !fits;
        if (fits) visible += 1;
      });
      const selected = templateSelect.selectedOptions[0];
      if (selected && selected.disabled) {
        templateSelect.value = "";
        buildTemplateInputs();
      }
      const none = document.getElementById("wa-template-none");
      if (none) none.hidden = visible > 0;
    }

    function buildTemplateInputs() {
      if (!inputsBox) return;
      const id = templateSelect ? templateSelect.value : "";
      if (id && inputsBox.dataset.template === id && inputsBox.children.length) return; // server-rendered, keeps input
      const previous = {};
      inputsBox.querySelectorAll("input").forEach((input) => { previous[input.name] = input.value; });
      inputsBox.replaceChildren();
      inputsBox.dataset.template = id;
      const template = data.templates[id];
      if (!template) return;
      template.inputs.forEach((spec) => {
        const row = document.createElement("div");
        row.className = "form-row";
        const flex = document.createElement("div");
        flex.className = "flex-container";
        const label = document.createElement("label");
        label.htmlFor = "id_" + spec.name;
        label.textContent = spec.label;
        if (spec.required) label.className = "required";
        const input = document.createElement("input");
        input.type = spec.kind === "url" ? "url" : "text";
        input.name = spec.name;
        input.id = "id_" + spec.name;
        input.className = "vTextField wa-template-input";
        input.value = previous[spec.name] || "";
        flex.append(label, input);
        row.append(flex);
        inputsBox.append(row);
      });
    }

    // --- preview ------------------------------------------------------------------------------------------
    function add(parent, className, text) {
      const node = document.createElement("div");
      if (className) node.className = className;
      node.textContent = text;
      parent.append(node);
      return node;
    }

    function fill(text, pattern, name) {
      return (text || "").replace(pattern, (match, n) => {
        const input = field(name(n));
        return input && input.value ? input.value : match;
      });
    }

    function linesOf(name) {
      return (value(name) || "").split("\n").map((line) => line.trim()).filter(Boolean);
    }

    function renderPreview() {
      if (!bubble) return;
      const type = typeSelect.value;
      const body = document.createElement("div");
      if (type === "text") {
        add(body, "", value("body"));
      } else if (["image", "video", "audio", "document", "sticker"].includes(type)) {
        add(body, "wa-b-media", "[" + mediaLabel(type) + "] " + (value("media_filename") || value("media_link")));
        if (["image", "video", "document"].includes(type) && value("media_caption")) add(body, "", value("media_caption"));
      } else if (type === "location") {
        add(body, "wa-b-media", "📍 " + [value("latitude"), value("longitude")].filter(Boolean).join(", "));
        if (value("location_name")) add(body, "wa-b-header", value("location_name"));
        if (value("location_name") && value("location_address")) add(body, "", value("location_address"));
      } else if (type === "contacts") {
        linesOf("contacts").forEach((line) => add(body, "", "👤 " + line));
      } else if (type === "interactive") {
        const kind = value("interactive_type") || "button";
        if (value("header_text") && kind !== "product") add(body, "wa-b-header", value("header_text"));
        add(body, "", value("interactive_body"));
        if (value("footer_text")) add(body, "wa-b-footer", value("footer_text"));
        if (kind === "button") linesOf("buttons").forEach((title) => add(body, "wa-b-button", title));
        if (kind === "list") add(body, "wa-b-button", "☰ " + value("list_button"));
        if (kind === "product") add(body, "wa-b-media", "🛒 " + value("product_retailer_id"));
        if (kind === "product_list") add(body, "wa-b-button", "🛒 " + (labels.viewItemsLabel || ""));
      } else if (type === "template") {
        const template = data.templates[templateSelect ? templateSelect.value : ""];
        if (template) {
          if (template.positional) {
            if (value("tpl_header_media")) add(body, "wa-b-media", value("tpl_header_media"));
            add(body, "", fill(template.body_text, new RegExp(template.placeholder, "g"), (n) => "tpl_body_" + n));
          } else {
            if (template.header_format === "TEXT") {
              add(body, "wa-b-header", fill(template.header_text, /\{\{\s*(\d+)\s*\}\}/g, (n) => "tpl_header_" + n));
            } else if (template.header_format) {
              add(body, "wa-b-media", "[" + mediaLabel(template.header_format.toLowerCase()) + "] " + value("tpl_header_media"));
            }
            add(body, "", fill(template.body_text, /\{\{\s*(\d+)\s*\}\}/g, (n) => "tpl_body_" + n));
            if (template.footer_text) add(body, "wa-b-footer", template.footer_text);
            template.inputs.filter((spec) => spec.name.startsWith("tpl_button_"))
              .forEach((spec) => add(body, "wa-b-button", spec.label.split(":")[0]));
          }
        }
      }
      const empty = !body.textContent.trim();
      bubble.classList.toggle("wa-bubble-empty", empty);
      if (empty) {
        bubble.textContent = bubble.dataset.emptyLabel || "";
      } else {
        bubble.replaceChildren(...Array.from(body.childNodes));
      }
    }

    // --- wiring -----------------------------------------------------------------------------------------------
    typeSelect.addEventListener("change", () => { showParts(); renderPreview(); });
    if (kindSelect) kindSelect.addEventListener("change", () => { showParts(); renderPreview(); });
    if (numberSelect) numberSelect.addEventListener("change", () => { showParts(); filterTemplates(); renderPreview(); });
    if (templateSelect) templateSelect.addEventListener("change", () => { buildTemplateInputs(); renderPreview(); });
    form.addEventListener("input", renderPreview);

    const useTemplate = document.getElementById("wa-use-template");
    if (useTemplate) {
      useTemplate.addEventListener("click", () => {
        typeSelect.value = "template";
        showParts();
        renderPreview();
        if (templateSelect) templateSelect.focus();
      });
    }

    const sendButton = document.getElementById("wa-send");
    let submitted = false;
    form.addEventListener("submit", (event) => {
      if (submitted) {
        event.preventDefault();
        return;
      }
      submitted = true;
      if (sendButton) {
        // Disable after the submit is under way, so the button's own value is not what stops it.
        window.setTimeout(() => {
          sendButton.disabled = true;
          if (sendButton.dataset.sendingLabel) sendButton.value = sendButton.dataset.sendingLabel;
        }, 0);
      }
    });
    // Coming back with the browser's back button must not leave the form locked.
    window.addEventListener("pageshow", () => {
      submitted = false;
      if (sendButton) sendButton.disabled = false;
    });

    showParts();
    filterTemplates();
    buildTemplateInputs();
    renderPreview();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
