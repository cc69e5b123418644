// The back office's live operations feed: rows for every frame of /ws/backoffice/ that the server
// lets through (the staff member's role decides the types; the form's filters, sent as a
// `subscribe` message, narrow them further without a reload). Money movements (`wallet.updated`,
// withdrawals included) and withdrawal approvals go to #feed, alerts to #alerts, limit changes and exclusions to #protection.

import { asQuery, cell, formatMoney, openBackofficeSocket, playerCell, shortTime } from "./backoffice-socket.js";

const MAX_ROWS = 200;
const exponents = JSON.parse(document.getElementById("currency-exponents").textContent);
const body = document.querySelector("#feed tbody");
const alertsBody = document.querySelector("#alerts tbody");
const protectionBody = document.querySelector("#protection tbody");
const statusEl = document.getElementById("feed-status");
const form = document.getElementById("feed-filters");
const appliedEl = document.getElementById("feed-applied");
const money = (amount, currency) => formatMoney(amount, currency, exponents);

function setStatus(status) {
  statusEl.dataset.status = status;
  statusEl.textContent = status;
}

function prepend(tbody, row) {
  tbody.prepend(row);
  while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(tbody.rows.length - 1);
}

function addRow(frame) {
  const tx = frame.transaction;
  const row = document.createElement("tr");
  row.dataset.transactionId = tx.id;
  row.dataset.event = frame.event || "";
  row.append(
    cell(shortTime(tx.created_at)),
    playerCell(frame.player_id),
    cell(tx.kind),
    cell(money(tx.amount, frame.currency), tx.amount < 0 ? "debit" : "credit"),
    cell(money(frame.balance, frame.currency)),
    cell(String(frame.version)),
    cell(tx.game_id || ""),
    cell(tx.id),
    cell(frame.brand || ""),
  );
  prepend(body, row);
}

// Staff approved a withdrawal in the queue: no money moved, so no balance or version.
function addApproval(frame) {
  const row = document.createElement("tr");
  row.dataset.withdrawalId = frame.withdrawal_id;
  row.dataset.event = frame.event;
  row.append(
    cell(shortTime(frame.approved_at)),
    playerCell(frame.player_id),
    cell("withdrawal approved"),
    cell(money(frame.amount, frame.currency)),
    cell(""),
    cell(""),
    cell(""),
    cell(frame.withdrawal_id),
    cell(frame.brand || ""),
  );
  prepend(body, row);
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
  row.append(
    cell(shortTime(frame.created_at)),
    cell(frame.severity, frame.severity),
    cell(`${frame.rule} v${frame.rule_version}`),
    cell(frame.player_id || "(a game)"),
    cell(shown(frame.value)),
    cell(shown(frame.threshold)),
    cell(frame.alert_id),
  );
  prepend(alertsBody, row);
}

function limitText(frame, amount) {
  if (amount === null || amount === undefined) return "none";
  return frame.kind === "session" ? `${amount} min` : money(amount, frame.currency || "EUR");
}

function addProtection(frame) {
  const row = document.createElement("tr");
  row.dataset.event = frame.event;
  if (frame.type === "limit.changed") {
    const what = `${frame.kind}${frame.period ? ` ${frame.period}` : ""} limit ${frame.status}`;
    row.append(
      cell(shortTime(frame.created_at)),
      cell(frame.player_id),
      cell(what),
      cell(`${limitText(frame, frame.old_amount)} → ${limitText(frame, frame.new_amount)}`),
    );
  } else {
    row.append(
      cell(""),
      cell(frame.player_id),
      cell(frame.kind.replace("_", "-")),
      cell(`until ${shortTime(frame.ends_at)}`),
    );
  }
  prepend(protectionBody, row);
}

function filters() {
  const data = new FormData(form);
  const minimum = String(data.get("min_amount") || "").trim();
  return {
    types: data.getAll("types"),
    brand: data.get("brand") || null,
    player_id: String(data.get("player_id") || "").trim() || null,
    min_amount: /^\d+$/.test(minimum) ? Number(minimum) : null,
  };
}

const socket = openBackofficeSocket({
  query: () => asQuery(filters()),
  onStatus: setStatus,
  onFrame(frame) {
    if (frame.type === "wallet.updated") addRow(frame);
    else if (frame.type === "withdrawal.approved") addApproval(frame);
    else if (frame.type === "alert") addAlert(frame);
    else if (frame.type === "limit.changed" || frame.type === "player.excluded") addProtection(frame);
    else if (frame.type === "subscribed") appliedEl.textContent = describe(frame);
    else if (frame.type === "notice") appliedEl.textContent = `Filter refused: ${frame.message}`;
  },
});

function describe(frame) {
  const parts = [`types: ${frame.types.join(", ") || "none"}`];
  if (frame.brand) parts.push(`brand ${frame.brand}`);
  if (frame.player_id) parts.push(`player ${frame.player_id}`);
  if (frame.min_amount) parts.push(`amount ≥ ${frame.min_amount}`);
  return `Filter applied: ${parts.join("; ")}.`;
}

form.addEventListener("change", () => socket.subscribe(filters()));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  socket.subscribe(filters());
});
