/* The workspace's few behaviours htmx does not give by itself. No words of its own (CSP: a file, no eval). */
(function () {
  "use strict";

  function nearBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 120;
  }

  function scrollDown(element) {
    element.scrollTop = element.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var timeline = document.getElementById("timeline");
    if (timeline) scrollDown(timeline);
  });

  // Out-of-band swaps into a list: an item that comes again (polls overlap) replaces its earlier copy;
  // a "replace bucket" only refreshes items the page shows (ticks of older messages), never adds one.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var fragment = event.detail.fragment;
    if (!target || !fragment || !fragment.children) return;
    var incoming = Array.prototype.slice.call(fragment.children);
    if (target.hasAttribute("data-ws-replace-bucket")) {
      incoming.forEach(function (element) {
        var old = element.id && document.getElementById(element.id);
        if (old) old.replaceWith(element);
      });
      event.detail.shouldSwap = false;
      return;
    }
    if (target.hasAttribute("data-ws-append-unique")) {
      target.dataset.wsFollow = nearBottom(target) ? "1" : "";
      incoming.forEach(function (element) {
        var old = element.id && document.getElementById(element.id);
        if (old) old.remove();
      });
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute && target.hasAttribute("data-ws-append-unique") && target.dataset.wsFollow) {
      scrollDown(target);
    }
  });

  // After sending, the reply box comes back empty: keep the focus there and the newest bubble in sight.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "reply-box") {
      var timeline = document.getElementById("timeline");
      if (timeline) scrollDown(timeline);
      var text = document.getElementById("reply-text");
      if (text) text.focus();
    }
  });
})();
