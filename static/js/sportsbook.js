/**
 * The sportsbook page (apps/sportsbook/templates/sportsbook/sportsbook.html), on the player API and
 * the odds socket (contracts/sportsbook.md):
 *
 * - Events: GET sportsbook/events (live and upcoming, with their markets and prices), then kept
 *   live from `/ws/odds/`: subscribe to the events shown; each `market.updated` frame carries a
 *   market's whole state and is applied only if it is newer than the one shown (a higher
 *   version, or the same version with the other `delayed`), so frames are applied in version
 *   order and a repeat changes nothing. A suspended or settled market's selections cannot be
 *   chosen; `delayed` shows "Prices delayed". A market or selection the page does not know
 *   (opened after the list was read) has the list read again. The socket reconnects with
 *   backoff and jitter (1 s doubling to 30 s) and subscribes again: its snapshot brings the
 *   page up to date.
 * - Prices in the player's odds format (odds-format.js, exact), remembered in localStorage.
 * - The bet slip: one leg per market (choosing another selection of a market replaces its leg),
 *   several legs make an accumulator; the stake in major units, converted to minor units with
 *   integers only; the potential payout as the server computes it (stake x the product of the
 *   prices, rounded down, in BigInt hundredths); the price-change preference in localStorage.
 *   Each leg sends the price and the market's version as last seen on the socket. A placement
 *   has its own Idempotency-Key (kept only to retry one the network lost); every refusal is
 *   shown in words, PRICE_CHANGED with the new price to accept.
 * - My bets: GET sportsbook/bets, open (pending, accepted) and the others; a pending bet is
 *   polled (GET sportsbook/bets/{id}) until it is decided. Statuses this page does not know
 *   are shown as they are, and a `payout` when the bet has one.
 *
 * The header's balance is site.js's: the stake's `wallet.updated` frame moves it.
 */
import { callApi, formatMinor, parseMinor, subscribe } from "./site.js";
import { display } from "./odds-format.js";

const config = JSON.parse(document.getElementById("sportsbook-config").textContent);
const $ = (id) => document.getElementById(id);
const API = "/api/player/v1/sportsbook";
const FORMAT_KEY = "pam.sportsbook.oddsFormat";
const PRICE_CHANGES_KEY = "pam.sportsbook.acceptPriceChanges";
const MAX_EVENTS = 100; // ODDS_SOCKET_MAX_EVENTS: what one socket may follow
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const POLL_MS = 1000; // a pending bet's in-play delay is seconds
const POLL_MAX = 120; // then the list's next refresh shows it

const MARKET_STATUS_TEXT = { open: "Open", suspended: "Suspended", settled: "Settled" };
const BET_STATUS_TEXT = {
  pending: "Pending (in-play delay)",
  accepted: "Accepted",
  rejected: "Rejected",
  won: "Won",
  lost: "Lost",
  void: "Void",
};
const OPEN_BET_STATUSES = ["pending", "accepted"];

const events = new Map(); // event_id -> {event, markets: Map(market_id -> market)}
const selections = new Map(); // selection_id -> {event, market, selection}
const slip = new Map(); // market_id -> {selection_id, added_price}
const polling = new Set(); // bet ids polled now
const givenUp = new Set(); // bet ids still pending after POLL_MAX asks: not asked again
const names = { ...config.names }; // selection_id -> {event, market, selection}
let oddsFormat = stored(FORMAT_KEY, config.odds_formats, "decimal");

function stored(key, allowed, fallback) {
  try {
    const value = window.localStorage.getItem(key);
    return allowed.includes(value) ? value : fallback;
  } catch {
    return fallback; // storage refused (a private window): the default
  }
}

function remember(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* storage refused: the choice lasts as long as the page */
  }
}

function element(tag, { text, className, attrs } = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  return node;
}

function say(slot, text, kind = "error", extra = null) {
  slot.replaceChildren();
  if (!text) return;
  const p = element("p", { text, className: kind });
  if (extra) p.append(" ", extra);
  slot.append(p);
}

/** A key no other placement has: crypto.randomUUID where the page is a secure context. */
function newKey() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function call(method, path, body, idempotencyKey) {
  return callApi(method, API + path, body, idempotencyKey);
}

function priceText(price) {
  return display(price, oddsFormat);
}

function when(iso) {
  return (iso || "").slice(0, 16).replace("T", " ");
}

// --- events ---------------------------------------------------------------------------------------

function legName(selectionId) {
  const known = selections.get(selectionId);
  if (known) return { event: known.event.name, market: known.market.name, selection: known.selection.name };
  return names[selectionId] || { event: "", market: "", selection: selectionId };
}

async function loadEvents() {
  const answer = await call("GET", "/events");
  const list = $("events");
  list.removeAttribute("aria-busy");
  if (!answer.ok) {
    say(list, `The events could not be read: ${(answer.body && answer.body.error && answer.body.error.message) || `the server answered ${answer.status}.`}`);
    return;
  }
  events.clear();
  selections.clear();
  for (const event of answer.body.events.slice(0, MAX_EVENTS)) {
    const markets = new Map();
    for (const market of event.markets) {
      markets.set(market.market_id, { ...market, delayed: false });
      for (const selection of market.selections) {
        selections.set(selection.selection_id, { event, market, selection });
        names[selection.selection_id] = { event: event.name, market: market.name, selection: selection.name };
      }
    }
    events.set(event.event_id, { event, markets });
  }
  renderEvents();
  renderSlip();
  odds.follow([...events.keys()]);
}

function renderEvents() {
  const list = $("events");
  list.replaceChildren();
  if (events.size === 0) {
    list.append(element("p", { text: "No events on sale now.", className: "muted", attrs: { id: "no-events" } }));
    return;
  }
  for (const status of ["live", "upcoming"]) {
    const shown = [...events.values()].filter(({ event }) => event.status === status);
    if (!shown.length) continue;
    list.append(element("h3", { text: status === "live" ? "In play" : "Upcoming" }));
    for (const { event, markets } of shown) {
      const article = element("article", { className: "event", attrs: { "data-event-id": event.event_id, "data-status": event.status } });
      const head = element("div", { className: "event-head" });
      head.append(element("h4", { text: event.name }));
      head.append(element("span", {
        className: "hint",
        text: status === "live" ? "Live" : `Starts ${when(event.starts_at)} UTC`,
      }));
      article.append(head);
      for (const market of markets.values()) article.append(renderMarket(event, market));
      list.append(article);
    }
  }
}

function renderMarket(event, market) {
  const box = element("div", { className: "market", attrs: { "data-market-id": market.market_id } });
  const head = element("div", { className: "market-head" });
  head.append(element("span", { text: market.name, className: "market-name" }));
  head.append(element("span", { className: "market-state" }));
  box.append(head);
  const prices = element("div", { className: "prices", attrs: { role: "group", "aria-label": `${event.name}: ${market.name}` } });
  for (const selection of market.selections) {
    const button = element("button", { className: "selection", attrs: { type: "button", "data-selection-id": selection.selection_id } });
    button.append(element("span", { text: selection.name, className: "selection-name" }));
    button.append(element("span", { className: "price" }));
    button.addEventListener("click", () => toggleLeg(market.market_id, selection.selection_id));
    prices.append(button);
  }
  box.append(prices);
  updateMarket(market, box);
  return box;
}

/** The market's box as its state is now: prices, status, delayed, the slip's choice. */
function updateMarket(market, box = document.querySelector(`.market[data-market-id="${CSS.escape(market.market_id)}"]`)) {
  if (!box) return;
  box.dataset.status = market.status;
  box.dataset.version = market.version;
  box.dataset.delayed = market.delayed ? "true" : "false";
  const state = box.querySelector(".market-state");
  const parts = [];
  if (market.status !== "open") parts.push(MARKET_STATUS_TEXT[market.status] || market.status);
  if (market.delayed) parts.push("Prices delayed");
  state.textContent = parts.join(" · ");
  const chosen = slip.get(market.market_id);
  for (const selection of market.selections) {
    const button = box.querySelector(`[data-selection-id="${CSS.escape(selection.selection_id)}"]`);
    if (!button) continue;
    button.querySelector(".price").textContent = priceText(selection.price);
    button.disabled = market.status !== "open";
    button.setAttribute("aria-pressed", chosen && chosen.selection_id === selection.selection_id ? "true" : "false");
    button.setAttribute("aria-label", `${selection.name} at ${priceText(selection.price)}${market.status === "open" ? "" : ` (${MARKET_STATUS_TEXT[market.status] || market.status})`}`);
  }
}

function findMarket(marketId) {
  for (const { markets } of events.values()) if (markets.has(marketId)) return markets.get(marketId);
  return null;
}

let reloadTimer = null;
/** Something the list does not know: read it again, once for a burst of such frames. */
function reloadSoon() {
  if (reloadTimer) return;
  reloadTimer = setTimeout(() => {
    reloadTimer = null;
    loadEvents();
  }, 500);
}

/** A `market.updated` frame: taken only if newer than what is shown. */
function onMarketUpdated(frame) {
  const market = findMarket(frame.market_id);
  if (!market) {
    if (events.has(frame.event_id)) reloadSoon();
    return;
  }
  const newer = frame.version > market.version || (frame.version === market.version && frame.delayed !== market.delayed);
  if (!newer) return;
  market.version = frame.version;
  market.status = frame.status;
  market.delayed = Boolean(frame.delayed);
  const known = new Set(market.selections.map((s) => s.selection_id));
  const unknown = Object.keys(frame.prices || {}).some((selectionId) => !known.has(selectionId));
  for (const selection of market.selections) {
    if (frame.prices && selection.selection_id in frame.prices) selection.price = frame.prices[selection.selection_id];
  }
  updateMarket(market);
  renderSlip();
  if (unknown) reloadSoon();
}

// --- the odds socket -------------------------------------------------------------------------------

const odds = {
  socket: null,
  eventIds: [],
  attempts: 0,
  timer: null,

  follow(eventIds) {
    this.eventIds = eventIds;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.subscribe();
    else if (!this.socket) this.connect();
  },

  subscribe() {
    if (this.eventIds.length) this.socket.send(JSON.stringify({ type: "subscribe", event_ids: this.eventIds }));
  },

  status(status, text) {
    const slot = $("odds-status");
    slot.dataset.status = status;
    slot.textContent = text;
  },

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws/odds/`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempts = 0;
      this.status("live", "Live prices");
      this.subscribe();
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "market.updated") onMarketUpdated(frame);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.status("reconnecting", "Reconnecting to live prices…");
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempts);
      this.attempts = Math.min(this.attempts + 1, 16);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
    });
  },
};

// --- the bet slip ----------------------------------------------------------------------------------

function toggleLeg(marketId, selectionId) {
  const market = findMarket(marketId);
  if (!market || market.status !== "open") return;
  const chosen = slip.get(marketId);
  if (chosen && chosen.selection_id === selectionId) slip.delete(marketId);
  else {
    const selection = market.selections.find((s) => s.selection_id === selectionId);
    slip.set(marketId, { selection_id: selectionId, added_price: selection.price });
  }
  say($("slip-message"), "");
  delete $("slip-form").dataset.key;
  updateMarket(market);
  renderSlip();
}

/** Each leg as it would be sent now: the price and the version last seen on the socket. */
function currentLegs() {
  const legs = [];
  for (const [marketId, chosen] of slip) {
    const market = findMarket(marketId);
    const selection = market && market.selections.find((s) => s.selection_id === chosen.selection_id);
    legs.push({ marketId, chosen, market, selection });
  }
  return legs;
}

/** stake x the product of the prices, rounded down to the minor unit, exactly (BigInt hundredths). */
export function potentialPayout(stake, prices) {
  let numerator = BigInt(stake);
  let denominator = 1n;
  for (const price of prices) {
    const [units, fraction = ""] = price.split(".");
    numerator *= BigInt(units) * 100n + BigInt(fraction.padEnd(2, "0"));
    denominator *= 100n;
  }
  return Number(numerator / denominator);
}

function renderSlip() {
  const list = $("slip-legs");
  list.replaceChildren();
  const legs = currentLegs();
  for (const { marketId, chosen, market, selection } of legs) {
    const name = legName(chosen.selection_id);
    const item = element("li", { attrs: { "data-selection-id": chosen.selection_id, "data-market-id": marketId } });
    const text = element("span", { className: "leg" });
    text.append(element("strong", { text: name.selection }));
    text.append(element("span", { className: "hint", text: ` ${name.market} · ${name.event}` }));
    const price = element("span", { className: "leg-price", text: selection ? priceText(selection.price) : "–" });
    const notes = [];
    if (!market || market.status !== "open") notes.push(MARKET_STATUS_TEXT[market && market.status] || "No longer on sale");
    if (selection && selection.price !== chosen.added_price) notes.push(`was ${priceText(chosen.added_price)}`);
    if (market && market.delayed) notes.push("prices delayed");
    if (notes.length) text.append(element("span", { className: "leg-note", text: ` (${notes.join("; ")})` }));
    item.dataset.status = market ? market.status : "gone";
    const remove = element("button", { text: "Remove", className: "secondary", attrs: { type: "button", "aria-label": `Remove ${name.selection} from the slip` } });
    remove.addEventListener("click", () => {
      slip.delete(marketId);
      if (market) updateMarket(market);
      renderSlip();
    });
    item.append(text, price, remove);
    list.append(item);
  }
  $("slip-empty").hidden = legs.length > 0;
  $("slip-form").hidden = legs.length === 0;
  $("slip-kind").textContent = legs.length > 1 ? `Accumulator of ${legs.length} legs: every leg must win.` : "Single";
  updatePayout();
}

function updatePayout() {
  const stake = parseMinor($("slip-stake").value);
  const prices = currentLegs().map(({ selection }) => selection && selection.price);
  const payout = stake && prices.length && prices.every(Boolean) ? potentialPayout(stake, prices) : null;
  $("slip-payout").textContent = payout === null ? "–" : formatMinor(payout);
}

/** The words for a refusal of the bets API (`{"error": {"code", "message", ...}}`). */
export function refusalText(status, body) {
  const error = (body && body.error) || {};
  const named = error.selection_id ? legName(error.selection_id).selection : "";
  switch (error.code) {
    case "MARKET_SUSPENDED":
      return "Refused: a market of your slip is suspended, or was suspended after you saw its price. Wait for it to reopen and check the price.";
    case "PRICE_CHANGED":
      return error.price
        ? `Refused: the price of ${named || "a selection"} changed to ${priceText(error.price)}.`
        : "Refused: a price of your slip changed.";
    case "STAKE_TOO_HIGH":
      return Number.isInteger(error.max_stake) && error.max_stake > 0
        ? `Refused: the stake is too high. The most this slip takes now is ${formatMinor(error.max_stake)} ${config.currency}.`
        : "Refused: this slip cannot be taken now (its limits are reached).";
    case "MARKET_SETTLED":
      return "Refused: a market of your slip is settled.";
    case "INSUFFICIENT_FUNDS":
      return "Refused: your balance is too low for this stake.";
    case "LIMIT_REACHED":
      return `Refused: this would break one of your limits. ${error.message || ""}`.trim();
    case "PLAYER_BLOCKED":
      return `Refused: ${error.message || "your account may not bet now."}`;
    case "INVALID_SLIP":
      return `Refused: ${error.message || "this slip cannot be placed."}`;
    case "UNKNOWN_SELECTION":
      return "Refused: a selection of your slip is no longer on sale.";
    case "CURRENCY_MISMATCH":
      return `Refused: your wallet is in ${config.currency}.`;
    case "NOT_AUTHENTICATED":
      return "You are logged out: log in again.";
    default:
      return `Refused: ${error.message || `the server answered ${status}.`}`;
  }
}

async function placeBet(event) {
  event.preventDefault();
  const form = $("slip-form");
  const message = $("slip-message");
  const input = $("slip-stake");
  const stake = parseMinor(input.value);
  if (stake === null || stake <= 0) {
    input.setAttribute("aria-invalid", "true");
    say(message, `Enter a stake such as 10 or 10.00 (${config.currency}).`);
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  const legs = currentLegs();
  const closed = legs.find(({ market, selection }) => !market || !selection || market.status !== "open");
  if (closed) {
    say(message, `${legName(closed.chosen.selection_id).selection} cannot be bet on now: remove it or wait for its market to reopen.`);
    return;
  }
  const body = {
    stake,
    currency: config.currency,
    accept_price_changes: $("slip-price-changes").value,
    legs: legs.map(({ selection, market }) => ({ selection_id: selection.selection_id, price: selection.price, market_version: market.version })),
  };
  // A new key for each placement; the same one only to retry a request the network lost.
  const fingerprint = JSON.stringify(body);
  if (!form.dataset.key || form.dataset.body !== fingerprint) {
    form.dataset.key = newKey();
    form.dataset.body = fingerprint;
  }
  const button = $("slip-place");
  button.disabled = true;
  say(message, "");
  const answer = await call("POST", "/bets", body, form.dataset.key);
  button.disabled = false;
  if (answer.status !== 0) delete form.dataset.key;
  if (!answer.ok) {
    const error = (answer.body && answer.body.error) || {};
    let extra = null;
    if (error.code === "PRICE_CHANGED" && error.selection_id && error.price) extra = acceptPriceButton(error.selection_id, error.price);
    if (error.code === "STAKE_TOO_HIGH" && Number.isInteger(error.max_stake) && error.max_stake > 0) {
      extra = element("button", { text: `Stake ${formatMinor(error.max_stake)}`, className: "secondary", attrs: { type: "button" } });
      extra.addEventListener("click", () => {
        input.value = formatMinor(error.max_stake);
        updatePayout();
        say(message, "");
      });
    }
    say(message, refusalText(answer.status, answer.body), "error", extra);
    return;
  }
  const bet = answer.body;
  slip.clear();
  input.value = "";
  for (const { market } of legs) if (market) updateMarket(market);
  renderSlip();
  const status = BET_STATUS_TEXT[bet.status] || bet.status;
  say(message, `Bet placed: ${formatMinor(bet.stake)} ${bet.currency} to return ${formatMinor(bet.potential_payout)} ${bet.currency}. ${status}.`, "success");
  message.firstChild.dataset.betId = bet.bet_id;
  await loadBets();
  if (bet.status === "pending") pollBet(bet.bet_id);
}

/** PRICE_CHANGED: take the new price into the slip (the player places again). */
function acceptPriceButton(selectionId, price) {
  const button = element("button", { text: `Accept ${priceText(price)}`, className: "secondary", attrs: { type: "button", "data-action": "accept-price" } });
  button.addEventListener("click", () => {
    const known = selections.get(selectionId);
    const market = known && findMarket(known.market.market_id);
    const selection = market && market.selections.find((s) => s.selection_id === selectionId);
    if (!selection) return;
    // The socket's frame brings the same price; until it does, the slip carries the refusal's.
    selection.price = price;
    const chosen = slip.get(market.market_id);
    if (chosen) chosen.added_price = price;
    updateMarket(market);
    renderSlip();
    say($("slip-message"), `The slip now has ${selection.name} at ${priceText(price)}: place it again to bet at that price.`, "info");
  });
  return button;
}

// --- my bets ---------------------------------------------------------------------------------------

function betRow(bet) {
  const item = element("li", { attrs: { "data-bet-id": bet.bet_id, "data-status": bet.status } });
  const text = element("span", { className: "bet" });
  const kind = bet.legs.length > 1 ? `Accumulator (${bet.legs.length} legs)` : "Single";
  text.append(element("strong", { text: kind }));
  const legs = element("ul", { className: "bet-legs" });
  for (const leg of bet.legs) {
    const name = legName(leg.selection_id);
    legs.append(element("li", { text: `${name.selection} @ ${priceText(leg.price)}${name.market ? ` · ${name.market}` : ""}${name.event ? ` · ${name.event}` : ""}` }));
  }
  text.append(legs);
  const money = [`Stake ${formatMinor(bet.stake)} ${bet.currency}`, `to return ${formatMinor(bet.potential_payout)}`];
  if (Number.isInteger(bet.payout)) money.push(`paid ${formatMinor(bet.payout)} ${bet.currency}`);
  text.append(element("span", { className: "hint", text: `${money.join(", ")} · placed ${when(bet.placed_at)} UTC` }));
  let status = BET_STATUS_TEXT[bet.status] || bet.status;
  if (bet.reason) status += `: ${bet.reason.replaceAll("_", " ").toLowerCase()}`;
  item.append(text, element("span", { className: "bet-status", text: status }));
  return item;
}

async function loadBets() {
  const answer = await call("GET", "/bets");
  const open = $("open-bets");
  const settled = $("settled-bets");
  open.replaceChildren();
  settled.replaceChildren();
  const bets = answer.ok ? answer.body.results || [] : [];
  for (const bet of bets) (OPEN_BET_STATUSES.includes(bet.status) ? open : settled).append(betRow(bet));
  $("no-open-bets").hidden = open.children.length > 0;
  $("no-settled-bets").hidden = settled.children.length > 0;
  if (!answer.ok) $("no-open-bets").textContent = refusalText(answer.status, answer.body);
  for (const bet of bets) if (bet.status === "pending") pollBet(bet.bet_id);
}

/** Asks for a pending bet until it is decided (the GET decides one whose delay has run out). */
async function pollBet(betId) {
  if (polling.has(betId) || givenUp.has(betId)) return;
  polling.add(betId);
  let decided = false;
  try {
    for (let attempt = 0; attempt < POLL_MAX && !decided; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const answer = await call("GET", `/bets/${encodeURIComponent(betId)}`);
      decided = (answer.ok && answer.body.status !== "pending") || (!answer.ok && answer.status !== 0);
    }
  } finally {
    polling.delete(betId);
  }
  if (!decided) givenUp.add(betId); // the list still shows it, as it is at each refresh
  loadBets();
}

// --- wiring ----------------------------------------------------------------------------------------

const formatSelect = $("odds-format");
formatSelect.value = oddsFormat;
formatSelect.addEventListener("change", () => {
  oddsFormat = formatSelect.value;
  remember(FORMAT_KEY, oddsFormat);
  for (const { markets } of events.values()) for (const market of markets.values()) updateMarket(market);
  renderSlip();
  loadBets();
});
const priceChanges = $("slip-price-changes");
priceChanges.value = stored(PRICE_CHANGES_KEY, config.price_changes, "none");
priceChanges.addEventListener("change", () => remember(PRICE_CHANGES_KEY, priceChanges.value));
$("slip-stake").addEventListener("input", updatePayout);
$("slip-form").addEventListener("submit", placeBet);

// A settlement reaches the player as money (a win) or a notice: the list shows it.
subscribe({
  onTransaction(transaction) {
    if (transaction.kind !== "bet") loadBets();
  },
  onNotice(frame) {
    if (frame.kind === "bet_settled") loadBets();
  },
});

loadEvents();
loadBets();
