// The alerts bell of the admin header: the page costs no query for it; the unread count is fetched here.
// Words come from the page (data attributes); this file shows none of its own.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("a.wa-alerts-bell[data-count-url]").forEach(async (bell) => {
    try {
      const response = await fetch(bell.dataset.countUrl, {credentials: "same-origin",
                                                           headers: {"Accept": "application/json"}});
      if (!response.ok) return;
      const unread = (await response.json()).count || 0;
      const badge = bell.querySelector(".wa-alerts-count");
      badge.textContent = String(unread);
      badge.dataset.unread = String(unread);
      badge.hidden = unread === 0;
      bell.classList.toggle("wa-alerts-unread", unread > 0);
      if (unread > 0) bell.setAttribute("aria-label", bell.dataset.unreadLabel);
    } catch (e) {
      // The bell stays as rendered: a missed count is not worth an error.
    }
  });
});
