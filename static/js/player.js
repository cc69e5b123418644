/**
 * The player page (templates/site/player.html): renders what pam-realtime.js applies. The page
 * was rendered at a wallet version (in #wallet-client); the client resumes from it, so nothing
 * committed between the render and the socket's hello is missed.
 */
import { connectWallet, STATUS } from "./pam-realtime.js";

const config = JSON.parse(document.getElementById("wallet-client").textContent);
const $ = (id) => document.getElementById(id);

const STATUS_TEXT = {
  [STATUS.CONNECTING]: "Connecting…",
  [STATUS.LIVE]: "Live",
  [STATUS.RECONNECTING]: "Reconnecting…",
  [STATUS.POLLING]: "Live (polling)",
  [STATUS.UNAUTHENTICATED]: "Signed out: log in again",
  [STATUS.FORBIDDEN]: "Not allowed",
  [STATUS.STOPPED]: "Stopped",
};

/** Minor units as a decimal string, with integers only (no float rounding): 9950, 2 -> "99.50". */
function formatMinor(amount, exponent) {
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function showState(state) {
  $("balance").textContent = formatMinor(state.balance, config.exponent);
  $("cash").textContent = formatMinor(state.cash, config.exponent);
  $("bonus").textContent = formatMinor(state.bonus, config.exponent);
  $("currency").textContent = state.currency;
}

function showTransaction(transaction, frame) {
  const row = document.createElement("tr");
  row.dataset.version = String(frame.version);
  const cells = [
    (transaction.created_at || "").slice(0, 19).replace("T", " "),
    transaction.kind,
    formatMinor(transaction.amount, config.exponent),
    formatMinor(frame.balance, config.exponent),
  ];
  cells.forEach((text, i) => {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (i >= 2) cell.className = "num";
    row.appendChild(cell);
  });
  const body = $("transactions");
  body.prepend(row);
  while (body.rows.length > config.keep) body.deleteRow(body.rows.length - 1);
  $("no-transactions").hidden = true;
}

function showNotice(frame) {
  const item = document.createElement("li");
  item.dataset.kind = frame.kind;
  item.textContent = frame.message;
  if (frame.kind === "reality_check") item.append(realityCheckChoice(item, frame.data || {}));
  $("notices").prepend(item);
}

/** Play is paused at a reality check until the player acknowledges it (or logs out): the two
 * buttons do that through the player API, with the session's CSRF token from the logout form. */
function realityCheckChoice(item, data) {
  const choice = document.createElement("span");
  choice.className = "choice";
  const button = (text, action, onClick) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.dataset.action = action;
    element.addEventListener("click", onClick);
    choice.append(element);
  };
  button("Continue playing", "acknowledge", async () => {
    const token = document.querySelector("form.logout [name=csrfmiddlewaretoken]");
    const response = await fetch(data.acknowledge || "/api/player/v1/reality-check/ack", {
      method: "POST",
      credentials: "same-origin",
      headers: token ? { "X-CSRFToken": token.value } : {},
    });
    if (response.ok) {
      choice.remove();
      item.dataset.acknowledged = "true";
    }
  });
  button("Log out", "log-out", () => document.querySelector("form.logout").submit());
  return choice;
}

function showStatus(status) {
  const element = $("connection-status");
  element.dataset.status = status;
  element.textContent = STATUS_TEXT[status] || status;
  if (status === STATUS.UNAUTHENTICATED) {
    const link = document.createElement("a");
    link.href = `/login/?next=${encodeURIComponent(window.location.pathname)}`;
    link.textContent = " Log in";
    element.appendChild(link);
  }
}

window.pamWallet = connectWallet({
  version: config.version,
  onState: showState,
  onTransaction: showTransaction,
  onNotice: showNotice,
  onStatus: showStatus,
});
