/* The inbox thread: new messages without a reload, replies without leaving the page, reply-to a message.
 *
 * Everything it needs is on #wa-thread (data-updates-url, data-cursor, data-poll-ms) and in the reply form;
 * the server renders the bubbles (the same template for the page and for updates), so this file only
 * places HTML it is given. No inline scripts: CSP allows this file by nonce.
 */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var thread = document.getElementById("wa-thread");
    if (!thread) { return; }
    var list = document.getElementById("wa-messages");
    var form = document.getElementById("wa-reply-form");
    var text = document.getElementById("wa-reply-text");
    var contextInput = document.getElementById("wa-reply-context");
    var replying = document.getElementById("wa-replying");
    var replyingText = document.getElementById("wa-replying-text");
    var errorBox = document.getElementById("wa-reply-error");
    var closedNote = document.getElementById("wa-window-closed-note");
    var windowBadge = document.getElementById("wa-window");
    var cursor = thread.dataset.cursor || "";
    var pollMs = parseInt(thread.dataset.pollMs || "2000", 10);
    var polling = false;
    var failures = 0;

    function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 120; }
    function toBottom() { list.scrollTop = list.scrollHeight; }

    function has(id) { return list.querySelector('.wa-msg[data-id="' + id + '"]') !== null; }

    function insert(id, html) {
      if (!id || has(id)) { return false; }
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var node = holder.firstElementChild;
      if (!node) { return false; }
      var empty = document.getElementById("wa-no-messages");
      if (empty) { empty.remove(); }
      // Keep time order: a message committed late by a worker may be older than the last one shown.
      var time = node.dataset.time || "";
      var after = null;
      var shown = list.querySelectorAll(".wa-msg");
      for (var i = shown.length - 1; i >= 0; i--) {
        if ((shown[i].dataset.time || "") <= time) { after = shown[i]; break; }
      }
      if (after) { after.insertAdjacentElement("afterend", node); } else { list.insertBefore(node, list.firstChild); }
      return true;
    }

    function showWindow(state) {
      if (!state) { return; }
      if (windowBadge) {
        windowBadge.textContent = state.label;
        windowBadge.classList.toggle("wa-window-open", !!state.open);
        windowBadge.classList.toggle("wa-window-closed", !state.open);
      }
      if (form && closedNote) {
        form.hidden = !state.open;
        closedNote.hidden = !!state.open;
      }
    }

    function poll() {
      if (polling || document.hidden) { return; }
      polling = true;
      var url = thread.dataset.updatesUrl + "?after=" + encodeURIComponent(cursor);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          var stick = nearBottom();
          var added = false;
          (data.messages || []).forEach(function (message) { added = insert(message.id, message.html) || added; });
          Object.keys(data.ticks || {}).forEach(function (id) {
            var slot = list.querySelector('[data-ticks-for="' + id + '"]');
            if (slot && slot.innerHTML !== data.ticks[id]) { slot.innerHTML = data.ticks[id]; }
          });
          if (data.cursor) { cursor = data.cursor; }
          showWindow(data.window);
          if (added && stick) { toBottom(); }
          if (errorBox && errorBox.dataset.offline === "1") { errorBox.hidden = true; errorBox.dataset.offline = ""; }
        })
        .catch(function () {
          failures += 1;
          if (failures >= 3 && errorBox) {
            errorBox.textContent = thread.dataset.offlineLabel;
            errorBox.dataset.offline = "1";
            errorBox.hidden = false;
          }
        })
        .finally(function () { polling = false; });
    }

    // Reply to a specific message: click a bubble, then its "Reply" button.
    function clearSelection() {
      list.querySelectorAll(".wa-msg-selected").forEach(function (node) {
        node.classList.remove("wa-msg-selected");
        var button = node.querySelector(".wa-reply-to");
        if (button) { button.hidden = true; }
      });
    }

    function setContext(node) {
      if (!contextInput || !replying) { return; }
      contextInput.value = node.dataset.id;
      var body = node.querySelector(".wa-text, .wa-choice-title, .wa-card-title, .wa-media-link");
      replyingText.textContent = body ? body.textContent.trim() : "";
      replying.hidden = false;
      if (text) { text.focus(); }
    }

    function clearContext() {
      if (contextInput) { contextInput.value = ""; }
      if (replying) { replying.hidden = true; }
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest(".wa-reply-to");
      if (button) {
        var target = button.closest(".wa-msg");
        clearSelection();
        setContext(target);
        return;
      }
      if (event.target.closest("a, audio, video, button")) { return; }
      var node = event.target.closest(".wa-msg");
      if (!node || node.dataset.quotable !== "1" || !form) { return; }
      var wasSelected = node.classList.contains("wa-msg-selected");
      clearSelection();
      if (!wasSelected) {
        node.classList.add("wa-msg-selected");
        var reply = node.querySelector(".wa-reply-to");
        if (reply) { reply.hidden = false; }
      }
    });

    var cancel = document.getElementById("wa-replying-cancel");
    if (cancel) { cancel.addEventListener("click", clearContext); }

    if (form) {
      text.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!text.value.trim()) { return; }
        var send = document.getElementById("wa-reply-send");
        send.disabled = true;
        errorBox.hidden = true;
        var body = new FormData(form);
        fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") }
        })
          .then(function (response) {
            return response.json().catch(function () { return { ok: false, error: "HTTP " + response.status }; });
          })
          .then(function (data) {
            if (!data.ok) {
              errorBox.textContent = thread.dataset.errorLabel + " " + (data.error || "");
              errorBox.hidden = false;
              return;
            }
            insert(data.id, data.html);
            toBottom();
            text.value = "";
            clearContext();
            clearSelection();
            // A new token: the next message is a new send, not a retry of this one.
            var token = form.querySelector('input[name="token"]');
            if (token && data.token) { token.value = data.token; }
            if (data.warning) {
              errorBox.textContent = thread.dataset.errorLabel + " " + data.warning;
              errorBox.hidden = false;
            }
          })
          .catch(function (error) {
            errorBox.textContent = thread.dataset.errorLabel + " " + error;
            errorBox.hidden = false;
          })
          .finally(function () { send.disabled = false; text.focus(); });
      });
    }

    toBottom();
    window.setInterval(poll, pollMs);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
  });
})();
