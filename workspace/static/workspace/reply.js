/* The thread's reply box: the "Replying to" strip, the emoji picker, the attachment panel.
 * The server renders every piece (htmx); this file only moves focus, inserts emoji at the cursor and shows the
 * attachment fields the kind of file takes. No words of its own, no inline handlers (CSP).
 */
(function () {
  "use strict";

  function replyText() { return document.getElementById("reply-text"); }

  function focusReply() {
    var text = replyText();
    if (text) { text.focus(); return; }
    var select = document.querySelector("#reply-box select[name=template]");
    if (select) select.focus();
  }

  // --- reply to a message -------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-quote-cancel]");
    if (cancel) {
      var holder = document.getElementById("reply-quote");
      if (holder) holder.innerHTML = "";
      focusReply();
      return;
    }
    // A quote inside a bubble leads to the message it answers, when the page shows it.
    var quote = event.target.closest(".wa-quote[data-quote-id]");
    if (quote) {
      var target = document.getElementById("msg-" + quote.dataset.quoteId);
      if (target) {
        target.scrollIntoView({ block: "center" });
        target.classList.add("ws-flash");
        window.setTimeout(function () { target.classList.remove("ws-flash"); }, 1500);
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.activeElement === replyText()) {
      var holder = document.getElementById("reply-quote");
      if (holder && holder.firstElementChild) holder.innerHTML = "";
    }
  });

  // --- emoji ----------------------------------------------------------------------------------------
  function picker() { return document.getElementById("emoji-picker"); }

  function emojiButtons() {
    var element = picker();
    return element ? Array.prototype.slice.call(element.querySelectorAll(".ws-emoji")) : [];
  }

  function closePicker(focusSummary) {
    var element = picker();
    if (!element || !element.open) return;
    element.open = false;
    if (focusSummary) element.querySelector("summary").focus();
  }

  function insertAtCursor(text, value) {
    var start = typeof text.selectionStart === "number" ? text.selectionStart : text.value.length;
    var end = typeof text.selectionEnd === "number" ? text.selectionEnd : start;
    text.setRangeText(value, start, end, "end");
    text.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".ws-emoji[data-emoji]");
    if (button) {
      var text = replyText();
      if (!text) return;
      insertAtCursor(text, button.dataset.emoji);
      closePicker(false);
      text.focus();
      return;
    }
    var element = picker();
    if (element && element.open && !event.target.closest("#emoji-picker")) closePicker(false);
  });

  document.addEventListener("keydown", function (event) {
    var element = picker();
    if (!element || !element.open || !element.contains(document.activeElement)) return;
    if (event.key === "Escape") {
      event.preventDefault();
      closePicker(true);
      return;
    }
    var buttons = emojiButtons();
    var index = buttons.indexOf(document.activeElement);
    if (index < 0) {
      if (event.key === "ArrowDown" && buttons.length) { event.preventDefault(); buttons[0].focus(); }
      return;
    }
    var columns = Math.max(1, Math.round(element.querySelector(".ws-emoji-grid").clientWidth / buttons[0].offsetWidth));
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, ArrowDown: index + columns, ArrowUp: index - columns,
                 Home: 0, End: buttons.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    buttons[Math.min(buttons.length - 1, Math.max(0, next))].focus();
  });

  // Opening the picker puts the focus on its first emoji (once they are loaded).
  document.addEventListener("toggle", function (event) {
    if (event.target.id === "emoji-picker" && event.target.open) {
      var first = emojiButtons()[0];
      if (first) first.focus();
    }
  }, true);

  // --- attachments ----------------------------------------------------------------------------------
  function syncAttachment() {
    var kind = document.getElementById("attach-type");
    var link = document.getElementById("attach-link");
    var text = replyText();
    if (!kind || !link) return;
    var attaching = link.value.trim() !== "";
    if (text) text.required = !attaching;
    var caption = document.querySelector("[data-attach-caption]");
    var filename = document.querySelector("[data-attach-filename]");
    if (caption) caption.hidden = kind.value === "audio";
    if (filename) filename.hidden = kind.value !== "document";
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "attach-link") syncAttachment();
  });
  document.addEventListener("change", function (event) {
    if (event.target.id === "attach-type") syncAttachment();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "reply-quote") focusReply();
    if (target.id === "emoji-panel") {
      var first = emojiButtons()[0];
      if (first && picker().open) first.focus();
    }
    if (target.id === "reply-box" || target.id === "reply-text") syncAttachment();
  });

  // An image that finishes loading in the newest bubble keeps the newest bubble in sight.
  document.addEventListener("load", function (event) {
    var image = event.target;
    if (!image || image.tagName !== "IMG") return;
    var timeline = document.getElementById("timeline");
    if (!timeline || !timeline.contains(image)) return;
    var last = timeline.lastElementChild;
    if (last && last.contains(image)) timeline.scrollTop = timeline.scrollHeight;
  }, true);

  document.addEventListener("DOMContentLoaded", syncAttachment);
})();
