// Live dashboard: fetch the server-rendered panel every few seconds and swap it in (no reload, no framework).
// Stops when the session ends (401) so an expired session is not hammered; pauses while the tab is hidden.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!live || !window.fetch) { return; }
  var seconds = parseInt(live.getAttribute("data-interval"), 10) || 15;
  var timer = null;

  function refresh() {
    if (document.hidden) { return; }
    fetch(live.getAttribute("data-src"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (response.status === 401) {
          window.clearInterval(timer);
          if (status) { status.textContent = "Session ended: reload the page to sign in again."; }
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) { return; }
        var openDetails = [];
        live.querySelectorAll("details[open] summary").forEach(function (s) { openDetails.push(s.textContent); });
        live.innerHTML = html;
        live.querySelectorAll("details summary").forEach(function (s) {
          if (openDetails.indexOf(s.textContent) >= 0) { s.parentNode.open = true; }
        });
        var stamp = live.querySelector("[data-generated]");
        if (status && stamp) { status.textContent = "Updated " + stamp.getAttribute("data-generated"); }
      })
      .catch(function () {
        if (status) { status.textContent = "Live update failed; retrying."; }
      });
  }
  timer = window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
