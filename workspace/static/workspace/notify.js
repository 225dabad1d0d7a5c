/* Opt-in alerts: a browser notification and a short sound when a customer writes.
 *
 * The bell (#notify-toggle, in the frame) stores the choice in localStorage and asks the browser's permission.
 * The polls already bring what is new: the inbox's rows carry data-new-inbound (with data-contact,
 * data-preview, data-inbound-at), the thread's new customer bubbles data-inbound and data-preview, and the
 * thread's poll, asked with alerts=1 while the bell is on, fills #ws-alerts with other conversations a customer
 * wrote in. No request of its own. Words come from the page's data attributes; the sound is made with the Web Audio API (no file).
 */
(function () {
  "use strict";

  var KEY = "waportal.workspace.notify";
  var seenRows = {};      // conversation id -> the customer's last message time already seen
  var seenMessages = {};  // thread bubble ids already seen
  var audio = null;

  function supported() { return "Notification" in window; }

  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (error) { return false; }
  }

  function store(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (error) { /* private mode: not kept */ }
  }

  function active() { return supported() && stored() && window.Notification.permission === "granted"; }

  function render(toggle) {
    var on = active();
    var blocked = supported() && window.Notification.permission === "denied";
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.classList.toggle("ws-notify-on", on);
    toggle.querySelector(".ws-notify-label").textContent = on ? toggle.dataset.onLabel : toggle.dataset.offLabel;
    toggle.title = blocked ? toggle.dataset.blockedLabel : "";
  }

  function unlockSound() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
    } catch (error) { audio = null; }
  }

  function chime() {
    if (!audio) return;
    try {
      var now = audio.currentTime;
      [880, 1320].forEach(function (frequency, index) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + index * 0.12);
        gain.gain.exponentialRampToValueAtTime(0.2, now + index * 0.12 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + index * 0.12 + 0.18);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(now + index * 0.12);
        oscillator.stop(now + index * 0.12 + 0.2);
      });
    } catch (error) { /* no sound, the notification still shows */ }
  }

  function alertAgent(title, body, url, tag) {
    if (!active()) return;
    var note;
    try {
      note = new window.Notification(title, { body: body, tag: tag });
    } catch (error) {
      return;
    }
    note.onclick = function () {
      window.focus();
      if (url && window.location.pathname !== url) window.location.href = url;
      if (note.close) note.close();
    };
    chime();
  }

  function openConversation() {
    var match = window.location.pathname.match(/^\/c\/(\d+)\//);
    return match ? match[1] : "";
  }

  // The inbox: rows the poll marks as carrying a new customer message.
  function scanRows(alerting) {
    var rows = document.querySelectorAll("#conversation-list a[data-conversation]");
    Array.prototype.forEach.call(rows, function (row) {
      var id = row.dataset.conversation;
      var at = row.dataset.inboundAt || "";
      var known = seenRows[id];
      seenRows[id] = at;
      if (!alerting || !row.dataset.newInbound || !at || known === at) return;
      if (!document.hidden && id === openConversation()) return;
      alertAgent(row.dataset.contact || "", row.dataset.preview || "", row.getAttribute("href"), "conversation-" + id);
    });
  }

  // The open thread: new customer bubbles, alerted only while the tab is hidden.
  function scanThread(alerting) {
    var items = document.querySelectorAll("#timeline [data-inbound]");
    var title = document.querySelector(".wa-thread-title");
    Array.prototype.forEach.call(items, function (item) {
      var id = item.dataset.inbound;
      var known = seenMessages[id];
      seenMessages[id] = true;
      if (!alerting || known || !document.hidden) return;
      alertAgent(title ? title.textContent.trim() : "", item.dataset.preview || "", window.location.pathname,
                 "conversation-" + openConversation());
    });
  }

  // Any other page with a poll (the thread): the poll asks for other conversations' news while the bell is on.
  function scanAlerts(alerting) {
    var links = document.querySelectorAll("#ws-alerts [data-alert-conversation]");
    Array.prototype.forEach.call(links, function (link) {
      var id = link.dataset.alertConversation;
      var at = link.dataset.inboundAt || "";
      var known = seenRows[id];
      seenRows[id] = at;
      if (!alerting || known === at) return;
      alertAgent(link.dataset.contact || "", link.dataset.preview || "", link.getAttribute("href"), "conversation-" + id);
    });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "thread-poll" && active()) event.detail.parameters.alerts = "1";
  });

  document.addEventListener("DOMContentLoaded", function () {
    scanRows(false);
    scanThread(false);
    var toggle = document.getElementById("notify-toggle");
    if (!toggle || !supported()) return;
    render(toggle);
    toggle.addEventListener("click", function () {
      unlockSound();
      if (active()) {
        store(false);
        render(toggle);
        return;
      }
      var asked = window.Notification.requestPermission();
      var done = function (permission) {
        store(permission === "granted");
        render(toggle);
      };
      if (asked && typeof asked.then === "function") asked.then(done); else done(window.Notification.permission);
    });
    // A click anywhere lets the sound play later (browsers start audio only after a gesture on the page).
    document.addEventListener("pointerdown", function () { if (active()) unlockSound(); }, { once: true });
  });

  function afterPoll() {
    scanRows(true);
    scanThread(true);
    scanAlerts(true);
  }

  document.addEventListener("htmx:oobAfterSwap", afterPoll);
  document.addEventListener("htmx:afterSettle", afterPoll);
})();
