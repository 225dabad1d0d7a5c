// Segment form: show how many contacts the filter matches while it is edited. The form is posted as it stands
// to the admin's count URL (debounced); the words come from the page (data attributes), none from here.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("wa-segment-count");
  const form = box && box.closest("form");
  if (!box || !form) return;
  const value = document.getElementById("wa-segment-count-value");
  const error = document.getElementById("wa-segment-count-error");
  let timer = null;
  let latest = 0;
  const count = () => {
    const asked = ++latest;
    value.textContent = box.dataset.waiting;
    fetch(box.dataset.countUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then((response) => response.json())
      .then((data) => {
        if (asked !== latest) return;
        value.textContent = data.count === null || data.count === undefined ? "—" : String(data.count);
        error.textContent = data.error || "";
        error.hidden = !data.error;
        // The admin's .errornote is display: block, which would show the empty box: the class only with words.
        error.classList.toggle("errornote", Boolean(data.error));
      })
      .catch(() => { if (asked === latest) value.textContent = "—"; });
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(count, 300); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  count();
});
