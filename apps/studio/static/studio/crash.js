/**
 * crash.js: the crash room's page (studio/crash.html), a client of the room's socket
 * `/ws/studio/crash/?session=<key>` as docs/crash-room.md describes it. A plain ES module: no
 * build step, no dependencies.
 *
 * - The snapshot (sent by the server on connect, and asked for again with `{"type": "snapshot"}`
 *   on every reconnect and whenever a frame shows that frames were missed) is the truth; live
 *   frames change it. A frame of an older round is ignored; a frame of a newer round other than
 *   `crash.betting` means frames were lost, so a snapshot is asked for.
 * - Money is integers in minor units everywhere; the stake typed in is parsed as a decimal string
 *   into minor units, never through a float. Multipliers are integers in hundredths.
 * - The countdown of the betting window runs on the server's clock: the offset between the
 *   server's `server_time` and this browser's clock is taken at each snapshot.
 * - Reconnects with exponential backoff and jitter (1 s doubling to 30 s). A socket without a
 *   snapshot within 10 s is given up and counts as a failure. A close code 4000-4999 is the
 *   room refusing the session: retrying cannot help, so the page stops and says so.
 * - Screen readers hear the phase changes, the player's own results and, while the round runs,
 *   the multiplier at most every ANNOUNCE_EVERY_MS (the visible one changes ten times a second).
 */

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const SNAPSHOT_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 10000;
const RESYNC_MIN_INTERVAL_MS = 1000; // at most one snapshot asked for per second
const ANNOUNCE_EVERY_MS = 3000;
const UI_TICK_MS = 100;
const FAILURES_BEFORE_HINT = 3; // connection attempts in a row that never got a snapshot

const MESSAGES = {
  BETTING_CLOSED: "Bets are closed for this round. Wait for the next one.",
  ALREADY_BET: "You already have a bet in this round.",
  INVALID_BET: "That stake is not allowed.",
  INSUFFICIENT_FUNDS: "Your balance is too low for that stake.",
  PLAYER_BLOCKED: "Your account cannot play at the moment.",
  LIMIT_REACHED: "That stake would go over one of your limits.",
  WALLET_UNAVAILABLE: "Your wallet could not be reached. Try again.",
  NOT_RUNNING: "The round is not running.",
  NO_BET: "You have no bet in this round.",
  ALREADY_CASHED_OUT: "You have already cashed out.",
  TOO_LATE: "Too late: the round crashed first.",
  INVALID_STAKE: "Enter a stake such as 1.50, greater than zero.",
  NO_ANSWER: "The room did not answer. Checking your bet…",
};

const PHASE_TEXT = { betting: "Place your bets", running: "Running", crashed: "Crashed" };

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for the tests)
// ---------------------------------------------------------------------------------------------

/** The number of minor-unit digits of an ISO 4217 currency (2 when the browser does not know it). */
export function currencyExponent(code) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** Minor units as a decimal string, with integers only: 9950, 2 -> "99.50". */
export function formatMinor(amount, exp) {
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exp + 1, "0");
  if (exp === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** A multiplier in hundredths as the page shows it: 231 -> "2.31×". */
export function formatX100(x100) {
  return `${formatMinor(x100, 2)}×`;
}

/**
 * The stake typed in ("1", "1.5", "1,50"), in minor units, or null when it is not a positive
 * amount with at most `exp` decimals. Parsed as a string: "0.1" + "0.2" never meets a float.
 */
export function parseStake(text, exp) {
  const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text || "");
  if (!match) return null;
  const fraction = match[2] || "";
  if (fraction.length > exp) return null;
  const minor = Number(match[1]) * 10 ** exp + Number(fraction.padEnd(exp, "0") || "0");
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

/** What a cash-out at `x100` pays for `stake`, as the server computes it. */
export function winOf(stake, x100) {
  return Math.floor((stake * x100) / 100);
}

/**
 * The delay before connection attempt number `failures` (1 after the first failure): the ceiling
 * doubles from 1 s to 30 s and the delay is drawn between half the ceiling and the ceiling, so
 * that every player cut off by a restart does not come back in the same second.
 */
export function backoffDelay(failures, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// ---------------------------------------------------------------------------------------------
// The room
// ---------------------------------------------------------------------------------------------

export function startRoom(root = document.getElementById("crash-room"), options = {}) {
  const $ = (id) => document.getElementById(id);
  const el = {
    status: $("crash-status"),
    balance: $("crash-balance"),
    net: $("crash-net"),
    elapsed: $("crash-elapsed"),
    round: $("crash-round"),
    phase: $("crash-phase"),
    countdown: $("crash-countdown"),
    multiplier: $("crash-multiplier"),
    announce: $("crash-announce"),
    result: $("crash-result"),
    point: $("crash-point"),
    outcome: $("crash-outcome"),
    seed: $("crash-seed"),
    verify: $("crash-verify-link"),
    form: $("crash-bet-form"),
    stake: $("crash-stake"),
    bet: $("crash-bet"),
    cashout: $("crash-cashout"),
    message: $("crash-message"),
    bets: $("crash-bets"),
    noBets: $("crash-no-bets"),
    commitment: $("crash-commitment"),
    session: $("crash-session"),
  };
  const currency = root.dataset.currency;
  const exp = currencyExponent(currency);
  const verifyUrl = root.dataset.verifyUrl || "/studio/crash/verify/";
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socketUrl =
    options.url || `${scheme}//${window.location.host}/ws/studio/crash/?session=${encodeURIComponent(root.dataset.sessionKey)}`;

  const state = {
    number: null,
    phase: null,
    closesAt: null, //   server clock, ms since the epoch
    multiplier: 100,
    crash: null,
    seed: null,
    bets: new Map(), //  player alias -> {stake, cashout_x100, win}
    you: null, //        this player's alias
    myBet: null, //      {stake, cashout_x100, win} in the current round
    balance: Number(root.dataset.balance) || 0,
    net: 0,
    elapsedBase: 0, //   seconds, at elapsedAt (local ms)
    elapsedAt: Date.now(),
    showSessionInfo: root.dataset.showSessionInfo === "true",
    offsetMs: 0, //      server clock minus this clock
  };
  const pending = new Map(); // request_id -> {kind, stake, timer}
  let socket = null;
  let connected = false;
  let everConnected = false;
  let failures = 0;
  let stopped = false;
  let retryTimer = null;
  let snapshotTimer = null;
  let lastResync = -Infinity;
  let lastAnnounced = -Infinity;
  let requestCounter = 0;

  // --- rendering --------------------------------------------------------------------------

  function setStatus(status, text) {
    el.status.dataset.status = status;
    el.status.textContent = text;
  }

  function announce(text) {
    el.announce.textContent = text;
    lastAnnounced = Date.now();
  }

  function showMessage(code, text) {
    el.message.dataset.code = code || "";
    el.message.textContent = text || "";
  }

  function renderBalance() {
    el.balance.dataset.minor = String(state.balance);
    el.balance.textContent = formatMinor(state.balance, exp);
  }

  function renderSession() {
    if (!el.session) return;
    el.session.hidden = !state.showSessionInfo;
    el.net.dataset.minor = String(state.net);
    el.net.textContent = formatMinor(state.net, exp);
    const seconds = state.elapsedBase + (Date.now() - state.elapsedAt) / 1000;
    el.elapsed.dataset.seconds = String(Math.floor(seconds));
    el.elapsed.textContent = formatDuration(seconds);
  }

  function renderMultiplier() {
    el.multiplier.dataset.x100 = String(state.multiplier);
    el.multiplier.textContent = formatX100(state.multiplier);
    el.multiplier.dataset.phase = state.phase || "";
  }

  function secondsLeft() {
    if (state.phase !== "betting" || state.closesAt === null) return 0;
    return Math.max(0, (state.closesAt - (Date.now() + state.offsetMs)) / 1000);
  }

  function renderPhase() {
    el.round.textContent = state.number === null ? "–" : String(state.number);
    el.phase.dataset.phase = state.phase || "";
    el.phase.textContent = state.phase ? PHASE_TEXT[state.phase] || state.phase : "Waiting for the room…";
    const left = secondsLeft();
    el.countdown.hidden = state.phase !== "betting";
    el.countdown.dataset.seconds = left.toFixed(1);
    el.countdown.textContent = left > 0 ? `Bets close in ${left.toFixed(1)} s` : "Bets closed";
  }

  function renderControls() {
    const pendingBet = [...pending.values()].some((p) => p.kind === "bet");
    const pendingCashout = [...pending.values()].some((p) => p.kind === "cashout");
    el.bet.disabled = !(connected && state.phase === "betting" && !state.myBet && !pendingBet && secondsLeft() > 0);
    const canCashOut = state.phase === "running" && state.myBet && state.myBet.cashout_x100 == null;
    el.cashout.hidden = !canCashOut;
    el.cashout.disabled = !(connected && canCashOut && !pendingCashout);
    if (canCashOut) el.cashout.textContent = `Cash out ${formatMinor(winOf(state.myBet.stake, state.multiplier), exp)} ${currency}`;
  }

  function renderResult() {
    const crashed = state.phase === "crashed" && state.crash !== null;
    el.result.hidden = !crashed;
    if (!crashed) return;
    el.point.textContent = formatX100(state.crash);
    el.point.dataset.x100 = String(state.crash);
    el.seed.textContent = state.seed || "";
    const url = new URL(verifyUrl, window.location.href);
    url.searchParams.set("q", String(state.number)); // the verifier checks a round by its number
    el.verify.href = url.pathname + url.search;
    el.outcome.textContent = outcomeText();
  }

  function outcomeText() {
    const bet = state.myBet;
    if (!bet) return "You had no bet in this round.";
    if (bet.cashout_x100 != null) {
      return `You cashed out at ${formatX100(bet.cashout_x100)} and won ${formatMinor(bet.win || 0, exp)} ${currency}.`;
    }
    return `You lost your stake of ${formatMinor(bet.stake, exp)} ${currency}.`;
  }

  function renderBets() {
    const items = [];
    for (const [player, bet] of state.bets) {
      const li = document.createElement("li");
      li.dataset.player = player;
      li.dataset.stake = String(bet.stake);
      li.dataset.cashout = bet.cashout_x100 == null ? "" : String(bet.cashout_x100);
      li.dataset.win = bet.win == null ? "" : String(bet.win);
      if (player === state.you) li.dataset.you = "true";
      const who = document.createElement("span");
      who.textContent = player === state.you ? `${player} (you)` : player;
      const what = document.createElement("span");
      let text = `${formatMinor(bet.stake, exp)} ${currency}`;
      if (bet.cashout_x100 != null) text += ` · cashed out at ${formatX100(bet.cashout_x100)}, won ${formatMinor(bet.win || 0, exp)}`;
      else if (state.phase === "crashed" && bet.win != null) text += " · lost";
      what.textContent = text;
      li.append(who, what);
      items.push(li);
    }
    el.bets.replaceChildren(...items);
    el.noBets.hidden = items.length > 0;
  }

  function render() {
    renderBalance();
    renderSession();
    renderPhase();
    renderMultiplier();
    renderResult();
    renderControls();
    renderBets();
  }

  // --- the protocol ------------------------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }

  function resync() {
    const now = Date.now();
    if (now - lastResync < RESYNC_MIN_INTERVAL_MS) return;
    lastResync = now;
    send({ type: "snapshot" });
  }

  function newRound(number, closesAt) {
    state.number = number;
    state.phase = "betting";
    state.closesAt = closesAt;
    state.multiplier = 100;
    state.crash = null;
    state.seed = null;
    state.bets = new Map();
    state.myBet = null;
    showMessage("", ""); // the last round's answer no longer applies
  }

  function sameRound(frame) {
    if (state.number === null || frame.number > state.number) {
      resync(); // a round this page never saw open: frames were missed
      return false;
    }
    return frame.number === state.number;
  }

  function betOf(raw) {
    if (raw == null) return null;
    if (typeof raw === "number") return { stake: raw, cashout_x100: null, win: null };
    return { stake: raw.stake, cashout_x100: raw.cashout_x100 ?? null, win: raw.win ?? null };
  }

  function applySnapshot(frame) {
    const round = frame.round || {};
    if (frame.server_time) state.offsetMs = Date.parse(frame.server_time) - Date.now();
    state.number = round.number ?? null;
    state.phase = round.phase || null;
    state.closesAt = round.betting_closes_at ? Date.parse(round.betting_closes_at) : null;
    state.multiplier = round.multiplier_x100 ?? 100;
    state.crash = round.crash_x100 ?? null;
    state.seed = round.seed ?? state.seed;
    if (state.phase !== "crashed") state.seed = null;
    state.bets = new Map((frame.bets || []).map((b) => [b.player, betOf(b)]));
    if (frame.commitment) el.commitment.textContent = frame.commitment;
    const you = frame.you || {};
    state.you = you.player ?? state.you;
    state.myBet = betOf(you.bet);
    if (!state.myBet && state.you && state.bets.has(state.you)) state.myBet = { ...state.bets.get(state.you) };
    if (Number.isInteger(you.balance)) state.balance = you.balance;
    if (Number.isInteger(you.net_position)) state.net = you.net_position;
    if (typeof you.elapsed_seconds === "number") {
      state.elapsedBase = you.elapsed_seconds;
      state.elapsedAt = Date.now();
    }
    if (typeof you.show_session_info === "boolean") state.showSessionInfo = you.show_session_info;
    announce(phaseAnnouncement());
  }

  function phaseAnnouncement() {
    if (state.phase === "betting") return `Round ${state.number}: bets open, ${Math.ceil(secondsLeft())} seconds.`;
    if (state.phase === "running") return `Round ${state.number} running at ${formatX100(state.multiplier)}.`;
    if (state.phase === "crashed") return `Round ${state.number} crashed at ${formatX100(state.crash)}.`;
    return "";
  }

  function upsertBet(player, change) {
    const bet = state.bets.get(player) || { stake: 0, cashout_x100: null, win: null };
    state.bets.set(player, { ...bet, ...change });
    if (player === state.you) state.myBet = { ...(state.myBet || {}), ...state.bets.get(player) };
  }

  function takeRequest(frame) {
    const request = pending.get(frame.request_id);
    if (!request) return null;
    clearTimeout(request.timer);
    pending.delete(frame.request_id);
    return request;
  }

  function handle(frame) {
    switch (frame.type) {
      case "crash.snapshot":
        clearTimeout(snapshotTimer);
        failures = 0;
        connected = true;
        everConnected = true;
        setStatus("live", "Live");
        applySnapshot(frame);
        break;
      case "crash.betting":
        if (state.number !== null && frame.number < state.number) return;
        if (frame.commitment) el.commitment.textContent = frame.commitment;
        if (frame.number === state.number && state.phase === "betting") {
          state.closesAt = Date.parse(frame.betting_closes_at);
        } else if (state.number === null || frame.number > state.number) {
          newRound(frame.number, Date.parse(frame.betting_closes_at));
          announce(phaseAnnouncement());
        }
        break;
      case "crash.bet":
        if (!sameRound(frame)) return;
        upsertBet(frame.player, { stake: frame.stake });
        break;
      case "crash.started":
        if (!sameRound(frame)) return;
        if (state.phase === "betting") {
          state.phase = "running";
          announce(`Round ${state.number} started.`);
        }
        break;
      case "crash.tick":
        if (!sameRound(frame) || state.phase === "crashed") return;
        state.phase = "running";
        state.multiplier = Math.max(state.multiplier, frame.multiplier_x100);
        if (Date.now() - lastAnnounced >= ANNOUNCE_EVERY_MS) announce(formatX100(state.multiplier));
        break;
      case "crash.cashout":
        if (!sameRound(frame)) return;
        upsertBet(frame.player, { cashout_x100: frame.cashout_x100, win: frame.win });
        break;
      case "crash.crashed":
        if (!sameRound(frame)) return;
        state.phase = "crashed";
        state.crash = frame.crash_x100;
        state.multiplier = frame.crash_x100;
        state.seed = frame.seed;
        announce(`Crashed at ${formatX100(frame.crash_x100)}. ${outcomeText()}`);
        break;
      case "crash.settled":
        if (!sameRound(frame)) return;
        state.bets = new Map((frame.results || []).map((r) => [r.player, betOf(r)]));
        if (state.you && state.bets.has(state.you)) state.myBet = { ...state.bets.get(state.you) };
        break;
      case "crash.balance":
        if (Number.isInteger(frame.balance)) state.balance = frame.balance;
        break;
      case "crash.bet_accepted": {
        const request = takeRequest(frame);
        if (Number.isInteger(frame.balance)) state.balance = frame.balance;
        if (request && frame.number === state.number) {
          state.net -= request.stake;
          state.myBet = { stake: request.stake, cashout_x100: null, win: null };
          if (state.you) upsertBet(state.you, { stake: request.stake });
          showMessage("", `Bet of ${formatMinor(request.stake, exp)} ${currency} accepted.`);
        } else if (request) {
          state.net -= request.stake;
          resync();
        }
        break;
      }
      case "crash.cashed_out": {
        takeRequest(frame);
        if (Number.isInteger(frame.balance)) state.balance = frame.balance;
        if (frame.number === state.number) {
          state.net += frame.win;
          const change = { cashout_x100: frame.cashout_x100, win: frame.win };
          state.myBet = { ...(state.myBet || { stake: 0 }), ...change };
          if (state.you) upsertBet(state.you, change);
          const text = `Cashed out at ${formatX100(frame.cashout_x100)}: you won ${formatMinor(frame.win, exp)} ${currency}.`;
          showMessage("", text);
          announce(text);
        }
        break;
      }
      case "crash.refused": {
        takeRequest(frame);
        showMessage(frame.code, MESSAGES[frame.code] || frame.message || "Refused.");
        break;
      }
      default:
        return; // a frame of a later version of the protocol
    }
    render();
  }

  function request(kind, frame, extra = {}) {
    requestCounter += 1;
    const id = `${kind}-${Date.now().toString(36)}-${requestCounter}-${Math.random().toString(36).slice(2, 8)}`;
    const timer = setTimeout(() => {
      if (!pending.delete(id)) return;
      showMessage("NO_ANSWER", MESSAGES.NO_ANSWER);
      lastResync = -Infinity;
      resync();
      render();
    }, REQUEST_TIMEOUT_MS);
    pending.set(id, { kind, timer, ...extra });
    send({ ...frame, request_id: id });
    render();
  }

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const stake = parseStake(el.stake.value, exp);
    if (stake === null) {
      el.stake.setAttribute("aria-invalid", "true");
      showMessage("INVALID_STAKE", MESSAGES.INVALID_STAKE);
      el.stake.focus();
      return;
    }
    el.stake.removeAttribute("aria-invalid");
    showMessage("", "");
    if (el.bet.disabled) return;
    request("bet", { type: "bet", stake }, { stake });
  });

  el.cashout.addEventListener("click", () => {
    if (el.cashout.disabled) return;
    request("cashout", { type: "cashout" });
  });

  // --- the socket --------------------------------------------------------------------------

  function connect() {
    retryTimer = null;
    if (failures < FAILURES_BEFORE_HINT) {
      setStatus(everConnected ? "reconnecting" : "connecting", everConnected ? "Reconnecting…" : "Connecting…");
    }
    let ws;
    try {
      ws = new WebSocket(socketUrl);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    snapshotTimer = setTimeout(() => ws.close(), SNAPSHOT_TIMEOUT_MS);
    ws.onopen = () => {
      // The server sends a snapshot at once; after a reconnect ask for one all the same, so a
      // server that only answers the request still brings the page up to date.
      if (everConnected) {
        lastResync = -Infinity;
        resync();
      }
    };
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") handle(frame);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      clearTimeout(snapshotTimer);
      socket = null;
      connected = false;
      for (const request of pending.values()) clearTimeout(request.timer);
      pending.clear(); // their outcome comes back with the next snapshot
      if (event.code >= 4000 && event.code < 5000) {
        stopped = true;
        setStatus("stopped", "This game session has ended: open the game again from the lobby.");
      } else {
        scheduleReconnect();
      }
      render();
    };
  }

  function scheduleReconnect() {
    if (stopped) return;
    failures += 1;
    if (failures >= FAILURES_BEFORE_HINT) {
      // A session the room refuses at the handshake looks to a browser like any failed connection
      // (no close code reaches the page), so after a few the player is told what may help.
      setStatus("unreachable", "Cannot reach the room. Retrying… If this goes on, open the game again from the lobby.");
    } else {
      setStatus(everConnected ? "reconnecting" : "connecting", everConnected ? "Reconnecting…" : "Connecting…");
    }
    retryTimer = setTimeout(connect, backoffDelay(failures));
  }

  // The countdown, the session's time and the Bet button's window, on one timer.
  const uiTimer = setInterval(() => {
    renderPhase();
    renderSession();
    renderControls();
  }, UI_TICK_MS);

  render();
  connect();

  return {
    state,
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(uiTimer);
      if (socket) socket.close(1000);
    },
  };
}

const root = typeof document !== "undefined" ? document.getElementById("crash-room") : null;
if (root && root.dataset.autostart !== "false") window.crashRoom = startRoom(root);
