/*
 * Banso in-app snippet (served by Banso at /inapp/banso.js; no build step, no dependencies).
 *
 * Embed in the product's pages, with the site's PUBLIC key and the signed-in user's ids as the
 * product knows them:
 *
 *   <script src="https://banso.example.jp/inapp/banso.js" async
 *           data-site-key="bsk_..." data-account="ACME-001" data-user="u-42" data-lang="ja"></script>
 *
 * Then Banso.track("report_exported", {format: "csv"}) records a usage event. Events are sent in
 * batches (every 2 seconds, at 50 events, and when the page is hidden) with ids made here, so a
 * batch sent again after a failure is stored once. Announcements and NPS prompts meant for the
 * user are shown in a small panel at the bottom right; text is set as text, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.Banso) { return; }
  var base = new URL(script.src).origin;
  var siteKey = script.getAttribute("data-site-key");
  var state = {
    account: script.getAttribute("data-account"),
    user: script.getAttribute("data-user"),
    lang: script.getAttribute("data-lang") || ((navigator.language || "en").slice(0, 2) === "ja" ? "ja" : "en")
  };
  var queue = [];
  var sending = false;
  var BATCH = 50;
  var EVERY_MS = 2000;
  var shown = {};
  var words = {
    en: { close: "Close", send: "Send", thanks: "Thank you!", comment: "Anything to add? (optional)",
          unlikely: "Not likely", likely: "Very likely" },
    ja: { close: "閉じる", send: "送信", thanks: "ご回答ありがとうございました。", comment: "ご意見があればどうぞ（任意）",
          unlikely: "まったく思わない", likely: "非常にそう思う" }
  };

  function url(path, query) {
    var u = new URL(path, base);
    u.searchParams.set("site_key", siteKey);
    Object.keys(query || {}).forEach(function (k) { u.searchParams.set(k, query[k]); });
    return u.toString();
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function track(name, properties, options) {
    if (!state.account) { return null; }
    var event = {
      event_id: (options && options.eventId) || newId(),
      account: String(state.account),
      user_id: state.user ? String(state.user) : null,
      event: String(name),
      ts: new Date().toISOString(),
      properties: properties || null
    };
    queue.push(event);
    if (queue.length >= BATCH) { flush(); }
    return event.event_id;
  }

  // Sends what is queued; a batch that fails (network, 429, 5xx) goes back to the front of the
  // queue with the same ids and is tried again later. A refused batch (4xx) is dropped, logged.
  function flush(keepalive) {
    if (sending || !queue.length) { return Promise.resolve(); }
    var batch = queue.splice(0, BATCH);
    sending = true;
    return fetch(url("/api/inapp/events"), {
      method: "POST", mode: "cors", credentials: "omit", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: batch })
    }).then(function (response) {
      if (response.status === 429 || response.status >= 500) {
        queue = batch.concat(queue);
      } else if (!response.ok) {
        response.text().then(function (text) { console.warn("Banso: events refused", response.status, text); });
      }
    }, function () {
      queue = batch.concat(queue);
    }).then(function () { sending = false; });
  }

  function identify(ids) {
    state.account = ids.account || state.account;
    state.user = ids.user || state.user;
    if (ids.lang) { state.lang = ids.lang; }
    return refresh();
  }

  function refresh() {
    if (!state.account || !state.user) { return Promise.resolve([]); }
    return fetch(url("/api/inapp/messages", { account: state.account, user: state.user, lang: state.lang }), {
      mode: "cors", credentials: "omit"
    }).then(function (response) {
      return response.ok ? response.json() : { messages: [] };
    }).then(function (body) {
      body.messages.forEach(show);
      return body.messages;
    });
  }

  function panel() {
    var box = document.getElementById("banso-inapp");
    if (!box) {
      box = document.createElement("div");
      box.id = "banso-inapp";
      box.setAttribute("role", "region");
      box.setAttribute("aria-live", "polite");
      box.style.cssText = "position:fixed;right:16px;bottom:16px;max-width:360px;z-index:2147483000;" +
        "font:14px/1.5 system-ui,sans-serif;color:#1f2937";
      document.body.appendChild(box);
    }
    return box;
  }

  function element(tag, text, css) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (css) { node.style.cssText = css; }
    return node;
  }

  function show(message) {
    if (shown[message.id]) { return; }
    shown[message.id] = true;
    var w = words[state.lang] || words.en;
    var card = element("div", "", "background:#fff;border:1px solid #d1d5db;border-radius:8px;" +
      "box-shadow:0 4px 16px rgba(0,0,0,.12);padding:12px 14px;margin-top:8px");
    card.className = "banso-message banso-" + message.kind;
    card.setAttribute("data-message-id", String(message.id));
    card.appendChild(element("strong", message.title));
    if (message.body) { card.appendChild(element("p", message.body, "margin:6px 0")); }
    if (message.kind === "nps") { npsForm(card, message, w); }
    var close = element("button", w.close, "margin-top:6px");
    close.type = "button";
    close.className = "banso-close";
    close.addEventListener("click", function () { card.remove(); });
    card.appendChild(close);
    panel().appendChild(card);
  }

  function npsForm(card, message, w) {
    var scores = element("div", "", "display:flex;gap:2px;flex-wrap:wrap;margin:6px 0");
    var chosen = null;
    for (var i = 0; i <= 10; i++) {
      var b = element("button", String(i), "min-width:26px");
      b.type = "button";
      b.className = "banso-score";
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", (function (score, button) {
        return function () {
          chosen = score;
          Array.prototype.forEach.call(scores.children, function (c) { c.setAttribute("aria-pressed", "false"); });
          button.setAttribute("aria-pressed", "true");
        };
      })(i, b));
      scores.appendChild(b);
    }
    card.appendChild(scores);
    card.appendChild(element("small", "0 = " + w.unlikely + ", 10 = " + w.likely));
    var comment = element("textarea", "", "display:block;width:100%;margin:6px 0");
    comment.className = "banso-comment";
    comment.setAttribute("aria-label", w.comment);
    comment.placeholder = w.comment;
    card.appendChild(comment);
    var send = element("button", w.send);
    send.type = "button";
    send.className = "banso-send";
    send.addEventListener("click", function () {
      if (chosen === null) { return; }
      send.disabled = true;
      fetch(url("/api/inapp/nps"), {
        method: "POST", mode: "cors", credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: message.id, account: String(state.account), user: String(state.user),
                               score: chosen, comment: comment.value || null })
      }).then(function (response) {
        if (response.ok) {
          scores.remove(); comment.remove(); send.remove();
          card.appendChild(element("p", w.thanks, "margin:6px 0")).className = "banso-thanks";
        } else {
          send.disabled = false;
        }
      }, function () { send.disabled = false; });
    });
    card.appendChild(send);
  }

  setInterval(function () { flush(); }, EVERY_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });

  window.Banso = { track: track, flush: flush, identify: identify, refresh: refresh };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { refresh(); });
  } else {
    refresh();
  }
})();
