/**
 * site.js: on every page of the player site, one live wallet (pam-realtime.js) that keeps the
 * header's balance current and shows notices as they arrive (reality checks, limits reached, a
 * deposit credited, the account locked, a bonus granted or ended). A notice of a kind this page
 * does not know shows the server's own message. The page was rendered at a wallet version (the
 * "site-wallet" JSON); the client resumes from it, so nothing committed meanwhile is missed.
 *
 * A page script that wants the frames too imports `subscribe` from here: the same module
 * instance, so one socket per page.
 */
import { connectWallet, STATUS } from "./pam-realtime.js";

const config = JSON.parse(document.getElementById("site-wallet").textContent);
const $ = (id) => document.getElementById(id);
const listeners = [];

export const exponent = config.exponent;

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
export function formatMinor(amount, exp = exponent) {
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exp + 1, "0");
  if (exp === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** "12.50" -> 1250 in minor units, with integers only (no float rounding); null if not an amount. */
export function parseMinor(text, exp = exponent) {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match || (match[1] === "" && !match[2]) || (match[2] || "").length > exp) return null;
  const whole = match[1] || "0";
  const fraction = (match[2] || "").padEnd(exp, "0");
  const digits = (whole + fraction).replace(/^0+(?=\d)/, "");
  const amount = Number(digits);
  return Number.isSafeInteger(amount) ? amount : null;
}

/** The session's CSRF token, from the logout form every page of a logged-in player has. */
export function csrfToken() {
  const input = document.querySelector("form.logout [name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

/** A call of the player API on the session (CSRF token, JSON both ways; an Idempotency-Key when
 * given): {ok, status, body}, body null when the answer is not JSON, and status 0 with an error
 * in the API's shape when the network failed. */
export async function callApi(method, url, body, idempotencyKey) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, body: { error: { message: "the network is down; try again." } } };
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

/** `handlers`: any of onState(state, frame), onTransaction(transaction, frame), onNotice(frame),
 * onStatus(status); called after the header is updated. */
export function subscribe(handlers) {
  listeners.push(handlers);
  // Frames arrive in later tasks, but the status is set at once: a page script that subscribes
  // after this module ran gets it too.
  if (handlers.onStatus && window.pamWallet) handlers.onStatus(window.pamWallet.status);
}

function emit(name, ...args) {
  for (const handlers of listeners) if (handlers[name]) handlers[name](...args);
}

/** Adds a notice at the top of the page's notice list (an aria-live region). */
export function showNotice(kind, message, extra) {
  const item = document.createElement("li");
  item.dataset.kind = kind;
  const text = document.createElement("span");
  text.textContent = message;
  item.append(text);
  if (extra) item.append(extra);
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "dismiss";
  dismiss.textContent = "Dismiss";
  dismiss.setAttribute("aria-label", `Dismiss: ${message}`);
  dismiss.addEventListener("click", () => item.remove());
  if (kind !== "reality_check") item.append(dismiss); // a reality check is answered, not dismissed
  $("notices").prepend(item);
  return item;
}

/** Play is paused at a reality check until the player acknowledges it (or logs out). */
function realityCheckChoice(data) {
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
    const response = await fetch(data.acknowledge || "/api/player/v1/reality-check/ack", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
    if (response.ok) {
      const item = choice.closest("li");
      choice.remove();
      item.dataset.acknowledged = "true";
    }
  });
  button("Log out", "log-out", () => document.querySelector("form.logout").submit());
  return choice;
}

/** A bonus notice in words, from its data (amount, campaign, and an end's status); null for any
 * other notice, or one without the data (then the server's message is shown). */
export function bonusNoticeText(frame) {
  const data = frame.data || {};
  if (!frame.kind.startsWith("bonus_") || !Number.isInteger(data.amount)) return null;
  const money = `${formatMinor(data.amount)} ${data.currency || ""}`.trim();
  const name = data.campaign ? ` (${data.campaign})` : "";
  switch (frame.kind) {
    case "bonus_granted":
      return `Bonus granted${name}: ${money} of bonus money to play with.`;
    case "bonus_converted":
      return `Bonus wagering complete${name}: ${money} is now cash.`;
    case "bonus_expired":
      return `Bonus expired${name}: ${money} of bonus money was removed.`;
    case "bonus_forfeited":
      return data.status === "cancelled"
        ? `Bonus cancelled${name}: ${money} of bonus money was removed.`
        : `Bonus forfeited by your withdrawal${name}: ${money} of bonus money was removed.`;
    default:
      return null;
  }
}

/** A link to the bonuses page, beside a bonus notice. */
function bonusesLink() {
  const link = document.createElement("a");
  link.href = "/bonuses/";
  link.textContent = "Your bonuses";
  return link;
}

function onNotice(frame) {
  const bonusText = bonusNoticeText(frame);
  let extra = null;
  if (frame.kind === "reality_check") extra = realityCheckChoice(frame.data || {});
  else if (frame.kind.startsWith("bonus_")) extra = bonusesLink();
  showNotice(frame.kind, bonusText || frame.message, extra);
  emit("onNotice", frame);
}

function onState(state, frame) {
  $("header-balance").textContent = formatMinor(state.balance);
  $("header-currency").textContent = state.currency;
  emit("onState", state, frame);
}

function onTransaction(transaction, frame) {
  if (transaction.kind === "deposit" && transaction.amount > 0) {
    showNotice("deposit", `Deposit credited: ${formatMinor(transaction.amount)} ${frame.currency}.`);
  }
  emit("onTransaction", transaction, frame);
}

function onStatus(status) {
  const element = $("connection-status");
  element.dataset.status = status;
  element.textContent = STATUS_TEXT[status] || status;
  if (status === STATUS.UNAUTHENTICATED) {
    const link = document.createElement("a");
    link.href = `/login/?next=${encodeURIComponent(window.location.pathname)}`;
    link.textContent = " Log in";
    element.appendChild(link);
  }
  emit("onStatus", status);
}

window.pamWallet = connectWallet({ version: config.version, onState, onTransaction, onNotice, onStatus });
