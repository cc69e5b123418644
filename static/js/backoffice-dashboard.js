// The back office's dashboard (the admin index): keeps its figures current.
//
// Every frame of /ws/backoffice/ (a money movement, an alert) means a figure may have moved, so it
// asks for the figures again from /backoffice/dashboard.json: at most once a second however many
// frames arrive, with one more fetch after the last frame of a burst. Players online and what the
// feed does not carry (a case opened, a withdrawal decided) are refreshed every PERIOD_MS as well.
// The server decides which figures this member of staff sees; the page only shows what it gets.
// Reconnects back off with jitter (1 s doubling to 30 s); 4401/4403 stop them (the periodic
// refresh goes on: a role without the feed still sees its figures move).

const MIN_INTERVAL_MS = 1000;
const PERIOD_MS = 15000;

const board = document.getElementById("dashboard");
const statusEl = document.getElementById("dashboard-status");

let lastFetch = 0;
let inFlight = false;
let timer = null;
let again = false;

function show(figures) {
  for (const link of board.querySelectorAll("a.figure")) {
    const key = link.id.replace(/^figure-/, "");
    const figure = figures[key];
    if (!figure) {
      link.remove(); // no longer this role's to see
      continue;
    }
    link.href = figure.url;
    const value = link.querySelector(".figure-value");
    value.replaceChildren(
      ...figure.lines.map((line) => {
        const span = document.createElement("span");
        span.textContent = line;
        return span;
      }),
    );
  }
}

async function refresh() {
  inFlight = true;
  lastFetch = Date.now();
  try {
    const response = await fetch(board.dataset.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    if (!response.ok) {
      statusEl.dataset.status = response.status === 401 ? "unauthenticated" : "refused";
      statusEl.textContent = "(log in again to refresh)";
      return;
    }
    const data = await response.json();
    show(data.figures);
    statusEl.dataset.status = "fresh";
    statusEl.textContent = `as of ${data.as_of.slice(11, 19)} UTC`;
  } catch {
    statusEl.dataset.status = "stale"; // the next frame or period tries again
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

// A refresh soon: now if the last one was at least MIN_INTERVAL_MS ago, else when it will be.
function schedule() {
  if (inFlight) {
    again = true;
    return;
  }
  if (timer !== null) return;
  const wait = Math.max(0, lastFetch + MIN_INTERVAL_MS - Date.now());
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, wait);
}

let delay = 1000;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/backoffice/`);
  socket.onopen = () => {
    delay = 1000;
    board.dataset.socket = "live";
    schedule(); // whatever moved while the socket was away
  };
  socket.onmessage = () => schedule();
  socket.onclose = (event) => {
    if (event.code === 4401 || event.code === 4403) {
      board.dataset.socket = "refused";
      return;
    }
    board.dataset.socket = "reconnecting";
    const wait = delay / 2 + Math.random() * (delay / 2);
    delay = Math.min(delay * 2, 30000);
    setTimeout(connect, wait);
  };
}

if (board) {
  lastFetch = Date.now(); // the page was rendered with fresh figures
  setInterval(schedule, PERIOD_MS);
  connect();
}
