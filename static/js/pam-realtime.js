/**
 * pam-realtime.js: the player's live wallet, as contracts/realtime.md (version 1) defines it.
 * A plain ES module: no build step, no dependencies.
 *
 * Usage, on a page of the site (the session cookie authenticates the socket and the polling):
 *
 *   import { connectWallet } from "/static/js/pam-realtime.js";
 *
 *   const client = connectWallet({
 *     version: 41,                          // optional: the version the page was rendered at
 *     onState(state, frame) {},             // {version, balance, cash, bonus, currency} after each applied frame
 *     onTransaction(transaction, frame) {}, // the `transaction` of each applied `wallet.updated`
 *     onNotice(frame) {},                   // `notice` frames (reality checks, limits, bonus news)
 *     onStatus(status) {},                  // see STATUS below
 *   });
 *   client.stop();                          // closes the socket and stops polling for good
 *
 * What it does:
 * - Connects to `/ws/player/` on the page's own origin. `hello` gives the state; on a reconnect
 *   (or when the page already holds a version) it sends `{"type": "resume", "since_version": N}`
 *   and the server replays what was missed from the ledger, or answers with one `resync`.
 * - Applies frames in version order: a frame at or below the version it holds is ignored (replay
 *   and live frames may overlap); a `wallet.updated` more than one above it is a gap, so it is
 *   not applied and `resume` is sent instead; the replay brings it back in order.
 * - A `heartbeat` above the version it holds also sends `resume` (the heartbeat carries the
 *   current version, so a single frame lost on the backplane is found within one period too).
 * - Reconnects with exponential backoff and jitter: 1 s doubling to 30 s. A socket that has not
 *   said `hello` within 10 s is closed and counts as a failed attempt.
 * - After FAILURES_BEFORE_POLLING connection attempts in a row fail, polls
 *   `GET /api/player/v1/wallet` (state) and `GET /api/player/v1/wallet/events?since_version=N`
 *   (the same frames) every 2 to 5 s, while it keeps trying the socket with the backoff; polling
 *   stops as soon as a socket says `hello` again.
 * - Close code 4401 (not authenticated) or 4403 (not allowed), or a 401/403 while polling, stops
 *   the client (retrying could not help: the player must log in again) and reports the status.
 *   One 4401 is tried again at once: that of a socket that had said `hello`, whose sign-in ended
 *   while the browser may hold a newer one (a password changed in another tab of the same
 *   browser renews its session, and ends the old session's sockets); the new attempt's 4401,
 *   before its `hello`, stops the client.
 */

/** The values `onStatus` receives. */
export const STATUS = Object.freeze({
  CONNECTING: "connecting", //     first attempt, nothing received yet
  LIVE: "live", //                 a socket is open and has said hello
  RECONNECTING: "reconnecting", // the socket dropped; the next attempt is scheduled
  POLLING: "polling", //           sockets keep failing; HTTP polling until one works again
  UNAUTHENTICATED: "unauthenticated", // 4401 or HTTP 401: stopped, log in again
  FORBIDDEN: "forbidden", //       4403 or HTTP 403 (not a player): stopped
  STOPPED: "stopped", //           stop() was called
});

const NOT_AUTHENTICATED = 4401;
const NOT_ALLOWED = 4403;
const FAILURES_BEFORE_POLLING = 3;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const POLL_MIN_MS = 2000;
const POLL_MAX_MS = 5000;
const HELLO_TIMEOUT_MS = 10000; // a socket without hello by then is given up (a stuck handshake)

function defaultSocketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/player/`;
}

/**
 * The delay before connection attempt number `failures` (1 after the first failure): the ceiling
 * doubles from 1 s to 30 s, and the delay is drawn between half the ceiling and the ceiling, so
 * that thousands of players cut off at once by a restart do not all come back in the same second.
 */
export function backoffDelay(failures, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function connectWallet(options = {}) {
  const socketUrl = options.url || defaultSocketUrl();
  const apiBase = options.apiBase || "/api/player/v1";
  const callbacks = {
    onState: options.onState || (() => {}),
    onTransaction: options.onTransaction || (() => {}),
    onNotice: options.onNotice || (() => {}),
    onStatus: options.onStatus || (() => {}),
  };

  let version = Number.isInteger(options.version) ? options.version : null; // the last applied
  let status = null;
  let socket = null;
  let failures = 0; //      connection attempts in a row that never got to `hello`
  let retryTimer = null;
  let pollTimer = null;
  let polling = false;
  let stopped = false;

  function setStatus(next) {
    if (next !== status) {
      status = next;
      callbacks.onStatus(next);
    }
  }

  function stateOf(frame) {
    const { version: v, balance, cash, bonus, currency } = frame;
    return { version: v, balance, cash, bonus, currency };
  }

  /** Takes a whole state (hello, resync, the polled wallet) as the truth. */
  function adopt(frame) {
    version = frame.version;
    callbacks.onState(stateOf(frame), frame);
  }

  /**
   * Applies one frame from the socket or from polling. Returns the version to resume from when
   * the frame shows a gap, else null.
   */
  function handle(frame) {
    if (!frame || typeof frame !== "object") return null;
    switch (frame.type) {
      case "hello":
        if (version === null) {
          adopt(frame);
          return null;
        }
        // A reconnect, or a page rendered at a version: whatever happened meanwhile is replayed.
        return version;
      case "resync":
        if (version === null || frame.version >= version) adopt(frame);
        return null;
      case "wallet.updated":
        if (version === null) return 0; // no state yet: cannot place this frame, so replay all
        if (frame.version <= version) return null; // already applied (replay overlapping live)
        if (frame.version > version + 1) return version; // a gap: the replay brings it in order
        version = frame.version;
        callbacks.onState(stateOf(frame), frame);
        if (frame.transaction) callbacks.onTransaction(frame.transaction, frame);
        return null;
      case "heartbeat":
        return version !== null && frame.version > version ? version : null;
      case "notice":
        callbacks.onNotice(frame);
        return null;
      default:
        return null; // a frame type of a later protocol version: ignore it
    }
  }

  // --- the socket ---------------------------------------------------------------------------

  function connect() {
    retryTimer = null;
    if (stopped) return;
    let greeted = false;
    const ws = new WebSocket(socketUrl);
    socket = ws;
    // A handshake that hangs (a proxy that swallows it) would otherwise hold up every retry.
    const helloTimer = setTimeout(() => {
      if (!greeted) ws.close();
    }, HELLO_TIMEOUT_MS);

    ws.onmessage = (event) => {
      if (socket !== ws) return; // a socket given up on
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "hello" && !greeted) {
        greeted = true;
        failures = 0;
        clearTimeout(helloTimer);
        stopPolling();
        setStatus(STATUS.LIVE);
      }
      const resumeFrom = handle(frame);
      if (resumeFrom !== null && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "resume", since_version: resumeFrom }));
      }
    };

    ws.onclose = (event) => {
      clearTimeout(helloTimer);
      if (socket !== ws) return; // already replaced or stopped
      socket = null;
      if (stopped) return;
      if (event.code === NOT_AUTHENTICATED && greeted) {
        failures = 0;
        setStatus(STATUS.RECONNECTING);
        retryTimer = setTimeout(connect, 0); // signed in still, or refused 4401 before hello
        return;
      }
      if (event.code === NOT_AUTHENTICATED || event.code === NOT_ALLOWED) {
        halt(event.code === NOT_AUTHENTICATED ? STATUS.UNAUTHENTICATED : STATUS.FORBIDDEN);
        return;
      }
      // A socket that never said hello is a failed attempt (refused, unreachable, or closed at
      // once); one that was live starts the backoff again from 1 s.
      failures = greeted ? 1 : failures + 1;
      if (failures >= FAILURES_BEFORE_POLLING) startPolling();
      if (!polling) setStatus(STATUS.RECONNECTING);
      retryTimer = setTimeout(connect, backoffDelay(failures));
    };
  }

  // --- the polling fallback -----------------------------------------------------------------

  async function getJson(path) {
    const response = await fetch(apiBase + path, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) throw new Halt(STATUS.UNAUTHENTICATED);
    if (response.status === 403) throw new Halt(STATUS.FORBIDDEN);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async function pollOnce() {
    if (version === null) {
      adopt(await getJson("/wallet")); // the same keys as `hello`
    }
    const { frames } = await getJson(`/wallet/events?since_version=${version}`);
    // The answer starts right after `version`, in order, so no frame in it can show a gap.
    for (const frame of frames || []) handle(frame);
  }

  function schedulePoll(delay) {
    pollTimer = setTimeout(async () => {
      pollTimer = null;
      if (!polling || stopped) return;
      try {
        await pollOnce();
      } catch (error) {
        if (error instanceof Halt) {
          halt(error.status);
          return;
        }
        // The network or the server is down: keep polling, the next answer catches up.
      }
      if (polling && !stopped) schedulePoll(POLL_MIN_MS + Math.random() * (POLL_MAX_MS - POLL_MIN_MS));
    }, delay);
  }

  function startPolling() {
    if (polling || stopped) return;
    polling = true;
    setStatus(STATUS.POLLING);
    schedulePoll(0);
  }

  function stopPolling() {
    polling = false;
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
  }

  // --- stopping -----------------------------------------------------------------------------

  function halt(finalStatus) {
    stopped = true;
    stopPolling();
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = null;
    if (socket) socket.close(1000);
    socket = null;
    setStatus(finalStatus);
  }

  setStatus(STATUS.CONNECTING);
  connect();

  return {
    stop: () => halt(STATUS.STOPPED),
    get version() {
      return version;
    },
    get status() {
      return status;
    },
  };
}

/** Thrown by the polling requests when retrying cannot help (401, 403). */
class Halt extends Error {
  constructor(status) {
    super(status);
    this.status = status;
  }
}
