/**
 * The cashier page (templates/site/cashier.html), on the player API's cashier
 * (contracts/payments.md): session cookie plus the CSRF header, an Idempotency-Key per form
 * submission (a double click or a retried request moves money once). A deposit sends the browser
 * to the PSP's hosted page (`redirect_url`), which sends it back to `/cashier/?deposit=<id>`.
 * Refusals are shown in words, with the remaining headroom of a deposit limit.
 *
 * Bonuses: the deposit form offers the opt-in campaigns a deposit grants that the player may join
 * (GET bonuses/campaigns); choosing one opts in (POST bonuses/opt-in) before the deposit starts, so
 * the deposit is the campaign's qualifying event. The withdraw form warns when an active bonus of
 * the player is forfeited by a withdrawal (GET bonuses).
 */
import { callApi, formatMinor, parseMinor, subscribe } from "./site.js";

const config = JSON.parse(document.getElementById("cashier-config").textContent);
const $ = (id) => document.getElementById(id);
const API = "/api/player/v1";

const STATUS_TEXT = {
  pending: "Pending",
  succeeded: "Credited",
  failed: "Failed",
  refunded: "Refunded",
  charged_back: "Charged back",
  awaiting_approval: "Awaiting approval",
  approved: "Approved",
  paid: "Paid",
  cancelled: "Cancelled",
};

function say(text, kind = "error") {
  const slot = $("cashier-message");
  slot.replaceChildren();
  if (!text) return;
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = text;
  slot.append(p);
}

/** The words for an API refusal (`{"error": {"code", "message", ...}}`). */
export function refusalText(status, body) {
  const error = (body && body.error) || {};
  switch (error.code) {
    case "LIMIT_REACHED": {
      const left = Number.isInteger(error.remaining) ? error.remaining : null;
      return left === null
        ? `Refused: this would break one of your limits. ${error.message || ""}`.trim()
        : `Refused: this would break your deposit limit. You can deposit at most ${formatMinor(left)} ${config.currency} now.`;
    }
    case "PLAYER_BLOCKED":
      return `Refused: ${error.message || "your account may not do this now."}`;
    case "INSUFFICIENT_FUNDS":
      return "Refused: not enough cash to withdraw this amount (bonus money cannot be withdrawn).";
    case "CURRENCY_MISMATCH":
      return `Refused: your wallet is in ${config.currency}.`;
    case "WITHDRAWAL_NOT_CANCELLABLE":
      return "This withdrawal can no longer be cancelled.";
    case "NOT_AUTHENTICATED":
      return "You are logged out: log in again.";
    case "INVALID_REQUEST":
      return `Refused: ${error.message || "the request is not valid."}`;
    default:
      if (status === 404) return "The cashier is not available yet.";
      return `Refused: ${error.message || `the server answered ${status}.`}`;
  }
}

function call(method, path, body, idempotencyKey) {
  return callApi(method, API + path, body, idempotencyKey);
}

function amountOf(form) {
  const input = form.querySelector("[name=amount]");
  const amount = parseMinor(input.value);
  if (amount === null || amount <= 0) {
    input.setAttribute("aria-invalid", "true");
    say("Enter an amount such as 20 or 20.00.");
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  return amount;
}

/** A form submission's key: kept while the same submission is retried, new for the next one. */
function keyFor(form) {
  if (!form.dataset.key) form.dataset.key = crypto.randomUUID();
  return form.dataset.key;
}

async function submit(form, path, onDone) {
  const amount = amountOf(form);
  if (amount === null) return;
  const button = form.querySelector("button");
  button.disabled = true;
  say("");
  const body = { amount, currency: config.currency, provider: form.querySelector("[name=provider]").value };
  const answer = await call("POST", path, body, keyFor(form));
  button.disabled = false;
  if (answer.status !== 0) delete form.dataset.key; // answered: the next submission is a new one
  if (!answer.ok) {
    say(refusalText(answer.status, answer.body));
    return;
  }
  onDone(answer.body, amount);
}

const DEPOSIT_TRIGGERS = ["first_deposit", "any_deposit"];
const offered = new Map(); // code -> campaign, as the API listed it

/** A campaign's terms in one sentence (money in minor units of its currency, the wallet's). */
export function termsText(campaign) {
  const money = (amount) => `${formatMinor(amount)} ${campaign.currency}`;
  let offer;
  if (campaign.kind === "deposit_match") {
    offer = `${campaign.match_percent} % of your deposit${campaign.cap ? ` up to ${money(campaign.cap)}` : ""}`;
  } else if (campaign.kind === "free_bet") {
    offer = `a free bet of ${money(campaign.amount)}`;
  } else if (campaign.amount) {
    offer = money(campaign.amount);
  } else {
    offer = campaign.name;
  }
  const parts = [offer];
  if (campaign.min_deposit) parts.push(`minimum deposit ${money(campaign.min_deposit)}`);
  if (campaign.wagering_multiple) {
    const base = campaign.wagering_base === "bonus_and_deposit" ? "bonus and deposit" : "bonus";
    parts.push(`wager ${campaign.wagering_multiple} times the ${base}`);
  }
  if (campaign.max_stake) parts.push(`stakes of at most ${money(campaign.max_stake)} while wagering`);
  if (campaign.expires_after_days) parts.push(`expires after ${campaign.expires_after_days} days`);
  if (campaign.forfeit_on_withdrawal) parts.push("a withdrawal before the wagering is done forfeits it");
  return `${parts.join("; ")}.`;
}

async function loadBonusOffer() {
  const answer = await call("GET", "/bonuses/campaigns");
  const campaigns = answer.ok
    ? (answer.body.results || []).filter((c) => c.requires_opt_in && DEPOSIT_TRIGGERS.includes(c.trigger))
    : [];
  const choices = $("bonus-choices");
  for (const campaign of campaigns) {
    offered.set(campaign.code, campaign);
    const label = document.createElement("label");
    label.className = "check";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "bonus";
    input.value = campaign.code;
    const text = document.createElement("span");
    const name = document.createElement("strong");
    name.textContent = campaign.name;
    text.append(name, `: ${termsText(campaign)}`);
    label.append(input, " ", text);
    choices.append(label);
  }
  $("bonus-offer").hidden = campaigns.length === 0;
}

/** The chosen campaign is joined before the deposit; false (and why, shown) if it cannot be. */
async function joinChosenBonus(form) {
  const chosen = form.querySelector("[name=bonus]:checked");
  const campaign = chosen && chosen.value ? offered.get(chosen.value) : null;
  if (!campaign) return true;
  const amount = parseMinor(form.querySelector("[name=amount]").value);
  if (amount !== null && campaign.min_deposit && amount < campaign.min_deposit) {
    say(`${campaign.name} needs a deposit of at least ${formatMinor(campaign.min_deposit)} ${campaign.currency}.`);
    return false;
  }
  const answer = await call("POST", "/bonuses/opt-in", { code: campaign.code });
  if (!answer.ok) {
    say(`Could not join ${campaign.name}: ${(answer.body && answer.body.error && answer.body.error.message) || `the server answered ${answer.status}.`}`);
    return false;
  }
  return true;
}

$("deposit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  if (amountOf(form) === null) return;
  const button = form.querySelector("button");
  button.disabled = true;
  const joined = await joinChosenBonus(form);
  button.disabled = false;
  if (!joined) return;
  submit(form, "/deposits", (deposit) => {
    if (deposit.redirect_url) window.location.assign(deposit.redirect_url);
  });
});

/** The withdraw form's warning: an active bonus that a withdrawal forfeits. */
async function loadForfeitWarning() {
  const answer = await call("GET", "/bonuses");
  const forfeited = answer.ok
    ? (answer.body.results || []).filter((b) => b.status === "active" && b.forfeit_on_withdrawal)
    : [];
  const warning = $("withdraw-forfeit-warning");
  if (forfeited.length) {
    const held = forfeited.reduce((sum, b) => sum + b.remaining, 0);
    warning.textContent = `A withdrawal now forfeits your active bonus (${forfeited.map((b) => b.campaign).join(", ")}): `
      + `its ${formatMinor(held)} ${config.currency} of bonus money is removed.`;
  }
  warning.hidden = forfeited.length === 0;
}

$("withdraw-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submit(event.target, "/withdrawals", (withdrawal, amount) => {
    event.target.reset();
    const status = STATUS_TEXT[withdrawal.status] || withdrawal.status;
    say(`Withdrawal of ${formatMinor(amount)} ${config.currency} requested: ${status}.`, "success");
    loadWithdrawals();
  });
});

function when(iso) {
  return (iso || "").slice(0, 16).replace("T", " ");
}

async function loadWithdrawals() {
  const answer = await call("GET", "/withdrawals");
  const list = $("pending-withdrawals");
  list.replaceChildren();
  const pending = answer.ok ? (answer.body.results || []).filter((w) => w.status === "awaiting_approval") : [];
  for (const withdrawal of pending) {
    const item = document.createElement("li");
    item.dataset.withdrawalId = withdrawal.withdrawal_id;
    const text = document.createElement("span");
    text.textContent = `${formatMinor(withdrawal.amount)} ${withdrawal.currency}, requested ${when(withdrawal.created_at)} UTC: awaiting approval`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", `Cancel the withdrawal of ${formatMinor(withdrawal.amount)} ${withdrawal.currency}`);
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const done = await call("POST", `/withdrawals/${encodeURIComponent(withdrawal.withdrawal_id)}/cancel`);
      if (!done.ok) {
        cancel.disabled = false;
        say(refusalText(done.status, done.body));
        return;
      }
      say(`Withdrawal of ${formatMinor(withdrawal.amount)} ${withdrawal.currency} cancelled: the money is back in your balance.`, "success");
      loadWithdrawals();
    });
    item.append(text, " ", cancel);
    list.append(item);
  }
  $("no-pending").hidden = pending.length > 0;
  if (!answer.ok && answer.status !== 0) $("no-pending").textContent = refusalText(answer.status, answer.body);
}

async function loadDeposits() {
  const answer = await call("GET", "/deposits");
  const body = $("recent-deposits");
  body.replaceChildren();
  const deposits = answer.ok ? (answer.body.results || []).slice(0, 10) : [];
  for (const deposit of deposits) {
    const row = document.createElement("tr");
    row.dataset.depositId = deposit.deposit_id;
    for (const [text, numeric] of [
      [when(deposit.created_at), false],
      [`${formatMinor(deposit.amount)} ${deposit.currency}`, true],
      [STATUS_TEXT[deposit.status] || deposit.status, false],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (numeric) cell.className = "num";
      row.append(cell);
    }
    body.append(row);
  }
  $("no-deposits").hidden = deposits.length > 0;
  if (!answer.ok && answer.status !== 0) $("no-deposits").textContent = refusalText(answer.status, answer.body);
}

/** Back from the PSP's page: say where the deposit stands (the credit itself arrives as a frame). */
async function showReturnedDeposit(id) {
  const answer = await call("GET", `/deposits/${encodeURIComponent(id)}`);
  if (!answer.ok) return;
  const deposit = answer.body;
  const amount = `${formatMinor(deposit.amount)} ${deposit.currency}`;
  if (deposit.status === "succeeded") say(`Your deposit of ${amount} is credited.`, "success");
  else if (deposit.status === "pending") say(`Your deposit of ${amount} is being processed; your balance updates as soon as it is credited.`, "info");
  else say(`Your deposit of ${amount} did not go through (${STATUS_TEXT[deposit.status] || deposit.status}).`);
}

// Money moved (a deposit credited, a withdrawal paid or returned): refresh the lists.
subscribe({
  onTransaction(transaction) {
    if (transaction.kind === "deposit" || transaction.kind.startsWith("withdrawal")) {
      loadDeposits();
      loadWithdrawals();
    }
    // A bonus granted or ended changes what a withdrawal would forfeit.
    if (transaction.kind.startsWith("bonus")) loadForfeitWarning();
  },
});

if (config.returned_deposit) showReturnedDeposit(config.returned_deposit);
loadDeposits();
loadWithdrawals();
loadBonusOffer();
loadForfeitWarning();
