// The back office's live feed: rows for every `wallet.updated` frame of /ws/backoffice/, and for
// every `alert` frame (a behaviour rule fired; sent only to staff who may read alerts).
//
// The feed has no per-client version (it mixes every player), so there is nothing to resume:
// after a reconnect the page simply goes on with new frames; the ledger views hold the history.
// Reconnects back off with jitter (1 s doubling to 30 s); 4401/4403 stop it (log in again).

const MAX_ROWS = 200;
const exponents = JSON.parse(document.getElementById("currency-exponents").textContent);
const body = document.querySelector("#feed tbody");
const alertsBody = document.querySelector("#alerts tbody");
const statusEl = document.getElementById("feed-status");

function setStatus(status) {
  statusEl.dataset.status = status;
  statusEl.textContent = status;
}

function money(amount, currency) {
  const exponent = exponents[currency] ?? 2;
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  const units = exponent ? `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}` : digits;
  return `${sign}${units} ${currency}`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function addRow(frame) {
  const tx = frame.transaction;
  const row = document.createElement("tr");
  row.dataset.transactionId = tx.id;
  row.append(
    cell(tx.created_at.replace("T", " ").replace(/\.\d+Z$/, "Z")),
    cell(frame.player_id),
    cell(tx.kind),
    cell(money(tx.amount, frame.currency), tx.amount < 0 ? "debit" : "credit"),
    cell(money(frame.balance, frame.currency)),
    cell(String(frame.version)),
    cell(tx.game_id || ""),
    cell(tx.id),
  );
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
}

function addAlert(frame) {
  // A re-delivered alert (the outbox sweeper after a crash) carries the same id: one row each.
  if (alertsBody.querySelector(`tr[data-alert-id="${CSS.escape(frame.alert_id)}"]`)) return;
  const row = document.createElement("tr");
  row.dataset.alertId = frame.alert_id;
  // A game's RTP drift: value and threshold are RTPs in millionths, and the alert has no player.
  const shown = (amount) =>
    frame.rule_type === "deposit_threshold"
      ? money(amount, frame.currency)
      : frame.rule_type === "game_rtp_drift"
        ? `${(amount / 10000).toFixed(4)} %`
        : String(amount);
  const value = shown(frame.value);
  const threshold = shown(frame.threshold);
  row.append(
    cell(frame.created_at.replace("T", " ").replace(/\.\d+Z$/, "Z")),
    cell(frame.severity, frame.severity),
    cell(`${frame.rule} v${frame.rule_version}`),
    cell(frame.player_id || "(a game)"),
    cell(value),
    cell(threshold),
    cell(frame.alert_id),
  );
  alertsBody.prepend(row);
  while (alertsBody.rows.length > MAX_ROWS) alertsBody.deleteRow(alertsBody.rows.length - 1);
}

let delay = 1000;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/backoffice/`);
  socket.onopen = () => {
    delay = 1000;
    setStatus("live");
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "wallet.updated") addRow(frame);
    else if (frame.type === "alert") addAlert(frame);
  };
  socket.onclose = (event) => {
    if (event.code === 4401 || event.code === 4403) {
      setStatus(event.code === 4401 ? "unauthenticated" : "forbidden");
      return;
    }
    setStatus("reconnecting");
    const wait = delay / 2 + Math.random() * (delay / 2);
    delay = Math.min(delay * 2, 30000);
    setTimeout(connect, wait);
  };
}

connect();
