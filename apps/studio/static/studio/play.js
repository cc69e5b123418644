/* The studio's game pages: rounds over /studio/api/, the wait between rounds, the balance, the
 * session bar and autoplay. Each game's page gives `StudioPlay.start` what to send (its payload)
 * and how to show an outcome. Plain JS, no build step; works inside PAM's iframe and alone. */
(function () {
  "use strict";

  const RESENDS = 4; // sends of one round before the page gives up (the server finishes it anyway)

  function requestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // also outside secure contexts, where randomUUID is missing
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function start(game) {
    const root = document.getElementById("studio-game");
    const api = root.dataset.api;
    const currency = root.dataset.currency;
    const money = new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency });
    const exponent = money.resolvedOptions().maximumFractionDigits;
    const spin = document.getElementById("spin");
    const balance = document.getElementById("balance");
    const message = document.getElementById("message");
    const bar = document.getElementById("session-bar");
    const autoplay = document.getElementById("autoplay");
    const autoplayRounds = document.getElementById("autoplay-rounds");
    let lockedUntil = 0; // performance.now() before which no round may start (the jurisdiction's cycle)
    let busy = false;
    let elapsedBase = null; // [server's elapsed seconds, performance.now() then]

    function format(minor) {
      return money.format(minor / 10 ** exponent);
    }

    function say(text) {
      message.textContent = text;
    }

    function refreshButton() {
      const wait = lockedUntil - performance.now();
      spin.disabled = busy || wait > 0 || !game.ready();
      spin.setAttribute("aria-busy", busy ? "true" : "false");
      if (wait > 0 && !busy) setTimeout(refreshButton, Math.min(wait + 5, 1000));
    }

    function lockFor(ms) {
      lockedUntil = performance.now() + Math.max(0, ms || 0);
      refreshButton();
    }

    function showSession(answer) {
      if (!bar || !answer.session) return;
      const s = answer.session;
      bar.querySelector("[data-net]").textContent = format(s.net_position);
      bar.querySelector("[data-staked]").textContent = format(s.staked);
      bar.querySelector("[data-returned]").textContent = format(s.returned);
      elapsedBase = [s.elapsed_seconds, performance.now()];
      tick();
    }

    function tick() {
      if (!bar || !elapsedBase) return;
      const seconds = elapsedBase[0] + Math.floor((performance.now() - elapsedBase[1]) / 1000);
      const h = Math.floor(seconds / 3600);
      const m = Math.floor((seconds % 3600) / 60);
      const sec = seconds % 60;
      bar.querySelector("[data-elapsed]").textContent =
        (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    }

    async function send(payload) {
      // One request id for every send of this round: the server answers a resend with the round's
      // stored answer, or carries the unfinished round on; it never bets twice.
      const body = JSON.stringify(Object.assign({ request_id: requestId() }, payload));
      for (let attempt = 1; attempt <= RESENDS; attempt++) {
        let response;
        try {
          response = await fetch(api, { method: "POST", headers: { "Content-Type": "application/json" }, body });
        } catch (networkError) {
          await sleep(1000 * attempt);
          continue;
        }
        let answer;
        try {
          answer = await response.json();
        } catch (notJson) {
          answer = { error: { code: "INTERNAL_ERROR", message: "The game server did not answer properly." } };
        }
        if (response.status === 503 && attempt < RESENDS) {
          await sleep(1000 * attempt);
          continue;
        }
        return answer;
      }
      return { error: { code: "ROUND_PENDING", message: "The game server cannot be reached. Your round will be completed or rolled back." } };
    }

    async function playRound(isAutoplay) {
      if (busy || lockedUntil > performance.now() || !game.ready()) return false;
      busy = true;
      say("");
      refreshButton();
      const payload = game.payload();
      if (isAutoplay) payload.autoplay = true;
      const answer = await send(payload);
      busy = false;
      if ("balance" in answer) balance.textContent = format(answer.balance);
      showSession(answer);
      lockFor(answer.error && answer.error.retry_after_ms ? answer.error.retry_after_ms : answer.next_round_in_ms);
      if (answer.error) {
        say(answer.error.message + " (" + answer.error.code + ")");
        return false;
      }
      game.show(answer, format);
      return true;
    }

    async function runAutoplay() {
      const rounds = Math.max(1, Math.min(100, parseInt(autoplayRounds.value, 10) || 1));
      for (let done = 0; done < rounds && autoplay.checked; done++) {
        // Wait out the cycle (bounded: the server tells how long), then play.
        while (autoplay.checked && (busy || lockedUntil > performance.now())) await sleep(100);
        if (!autoplay.checked || !(await playRound(true))) break;
      }
      autoplay.checked = false;
    }

    spin.addEventListener("click", () => playRound(false));
    if (autoplay) {
      autoplay.addEventListener("change", () => {
        if (autoplay.checked) runAutoplay();
      });
    }
    balance.textContent = format(parseInt(root.dataset.balance, 10));
    if (bar) {
      showSession({ session: { net_position: 0, staked: 0, returned: 0, elapsed_seconds: parseInt(root.dataset.elapsed, 10) || 0 } });
      setInterval(tick, 1000);
    }
    game.onChange = refreshButton;
    refreshButton();
    return { format };
  }

  window.StudioPlay = { start };
})();
