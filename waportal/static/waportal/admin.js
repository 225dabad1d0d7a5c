// waportal admin helpers. Served as a static file so the CSP needs no inline script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button class="wa-copy" data-copy="<input id>">.
  document.querySelectorAll("button.wa-copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      source.select();
      try {
        await navigator.clipboard.writeText(source.value);
      } catch (e) {
        document.execCommand("copy");
      }
      const label = button.textContent;
      button.textContent = "✓";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  });
  // Language picker submits on change.
  document.querySelectorAll("select.wa-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
});
