// The console's only script, none of it needed to use the pages:
// * sign-in: a token in the URL fragment (#token=...) goes into the form, then leaves the
//   address bar (a fragment never reaches the server, or its logs);
// * times: <time datetime> shown in the viewer's time zone (UTC without the script);
// * lists: [data-refresh] re-read every 15 s (?refresh=N: N s) while nothing in them is selected or focused.
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (!isNaN(at)) {
      el.title = el.textContent;
      el.textContent = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }
}

function tokenFromFragment() {
  const field = document.getElementById("token");
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (field && match) {
    field.value = decodeURIComponent(match[1]);
    history.replaceState(null, "", window.location.pathname + window.location.search);
    const button = document.querySelector("#sign-in button[type=submit]");
    if (button) button.focus();
  }
}

function refreshLists() {
  // ?refresh=N (seconds, at least 1) reads the lists more often, e.g. on a wall display.
  const asked = Number(new URLSearchParams(window.location.search).get("refresh"));
  const every = asked >= 1 ? asked * 1000 : 15000;
  for (const box of document.querySelectorAll("[data-refresh]")) {
    window.setInterval(async () => {
      if (box.querySelector("input:checked") || box.contains(document.activeElement)) return;
      const response = await fetch(box.dataset.refresh, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById(box.id);
      if (fresh && fresh.innerHTML !== box.innerHTML) {
        box.innerHTML = fresh.innerHTML;
        localTimes(box);
      }
    }, every);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  tokenFromFragment();
  localTimes(document);
  refreshLists();
  const heading = document.querySelector("h1[autofocus]");
  if (heading) heading.focus();
});
