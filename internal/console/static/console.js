// cairn console: refresh the page's main content every second, in place,
// by asking for the same URL with X-Cairn-Fragment: 1. Keeps the focus
// (by element id or link) and the scroll position.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  if (!main || !window.fetch) { return; }
  var every = parseInt(main.getAttribute("data-refresh"), 10) || 1000;
  var busy = false;
  function focusKey(el) {
    if (!el || !main.contains(el)) { return null; }
    if (el.id) { return { id: el.id }; }
    if (el.getAttribute("href")) { return { href: el.getAttribute("href") }; }
    return null;
  }
  function refocus(key) {
    if (!key) { return; }
    var el = key.id ? document.getElementById(key.id) : main.querySelector('a[href="' + CSS.escape(key.href) + '"]');
    if (el) { el.focus({ preventScroll: true }); }
  }
  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(location.pathname + location.search, { headers: { "X-Cairn-Fragment": "1" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok && r.status !== 404) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        if (html !== main.getAttribute("data-last")) {
          var key = focusKey(document.activeElement);
          main.innerHTML = html;
          main.setAttribute("data-last", html);
          refocus(key);
        }
        live.setAttribute("data-state", "ok");
        live.textContent = "Read-only · live, updated " + new Date().toLocaleTimeString();
      })
      .catch(function (e) {
        live.setAttribute("data-state", "error");
        live.textContent = "Read-only · not updating: " + e.message;
      })
      .then(function () { busy = false; });
  }
  setInterval(tick, every);
})();
