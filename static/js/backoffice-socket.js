// The back office's socket, /ws/backoffice/, shared by the live feed and the player 360 strip.
//
// The filters go in the URL at connect (so the server applies them before the first frame) and in
// `subscribe` messages after; `query()` is asked again on every reconnect, so a socket that comes
// back uses the filters the page shows now. The feed mixes every player, so there is nothing to
// resume: after a reconnect the page goes on with new frames (the ledger views hold the history).
// Reconnects back off with jitter (1 s doubling to 30 s); 4401/4403 stop it (log in again).

export function openBackofficeSocket({ query = () => "", onFrame, onStatus }) {
  let delay = 1000;
  let socket = null;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/backoffice/${query()}`);
    socket.onopen = () => {
      delay = 1000;
      onStatus("live");
    };
    socket.onmessage = (event) => onFrame(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (event.code === 4401 || event.code === 4403) {
        onStatus(event.code === 4401 ? "unauthenticated" : "forbidden");
        return;
      }
      onStatus("reconnecting");
      const wait = delay / 2 + Math.random() * (delay / 2);
      delay = Math.min(delay * 2, 30000);
      setTimeout(connect, wait);
    };
  }

  connect();
  return {
    // A new subscription; a closed socket takes it from `query()` when it reconnects.
    subscribe(filters) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "subscribe", ...filters }));
    },
  };
}

// Minor units with the currency's exponent ("-2.50 EUR"); `exponents` comes from the page.
export function formatMoney(amount, currency, exponents) {
  const exponent = exponents[currency] ?? 2;
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  const units = exponent ? `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}` : digits;
  return `${sign}${units} ${currency}`;
}

export function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// A player's id as a link to their 360 page (`/backoffice/players/<id>/`, beside the feed's page).
export function playerCell(playerId) {
  const td = document.createElement("td");
  if (!playerId) return td;
  const link = document.createElement("a");
  link.href = new URL(`../players/${encodeURIComponent(playerId)}/`, window.location.href).pathname;
  link.textContent = playerId;
  link.className = "player-360";
  td.append(link);
  return td;
}

export function shortTime(iso) {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// Filters as a URL query (the same fields as a `subscribe` message; types comma-separated).
export function asQuery(filters) {
  const params = new URLSearchParams();
  if (filters.types) params.set("types", filters.types.join(","));
  for (const key of ["brand", "player_id", "min_amount"]) {
    if (filters[key] !== undefined && filters[key] !== null && filters[key] !== "") params.set(key, String(filters[key]));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
