// The player 360 page's live strip: this player's events as they happen. The socket asks for this
// player in its URL, so the server filters before the first frame: the browser never receives
// another player's event. The strip shows the newest 50.

import { asQuery, formatMoney, openBackofficeSocket, shortTime } from "./backoffice-socket.js";

const MAX_ITEMS = 50;
const strip = document.getElementById("live-strip");
const list = strip.querySelector("ol");
const statusEl = document.getElementById("strip-status");
const exponents = JSON.parse(document.getElementById("currency-exponents").textContent);
const playerId = strip.dataset.playerId;
const money = (amount, currency) => formatMoney(amount, currency, exponents);

function describe(frame) {
  switch (frame.type) {
    case "wallet.updated": {
      const tx = frame.transaction;
      return [tx.created_at, `${tx.kind} ${money(tx.amount, frame.currency)}, balance ${money(frame.balance, frame.currency)}`];
    }
    case "withdrawal.approved":
      return [frame.approved_at, `withdrawal ${frame.withdrawal_id} of ${money(frame.amount, frame.currency)} approved`];
    case "alert":
      return [frame.created_at, `alert ${frame.rule} (${frame.severity}): ${frame.value} / ${frame.threshold}`];
    case "limit.changed":
      return [frame.created_at, `${frame.kind}${frame.period ? ` ${frame.period}` : ""} limit ${frame.status}: ${frame.old_amount ?? "none"} → ${frame.new_amount ?? "none"}`];
    case "player.excluded":
      return [null, `${frame.kind.replace("_", "-")} until ${shortTime(frame.ends_at)}`];
    default:
      return null;
  }
}

openBackofficeSocket({
  query: () => asQuery({ player_id: playerId }),
  onStatus(status) {
    statusEl.dataset.status = status;
    statusEl.textContent = status;
  },
  onFrame(frame) {
    if (frame.player_id !== playerId) return; // the server never sends one; belt and braces
    const shown = describe(frame);
    if (!shown) return;
    const item = document.createElement("li");
    item.dataset.event = frame.event;
    if (frame.transaction) item.dataset.transactionId = frame.transaction.id;
    const [when, text] = shown;
    item.textContent = when ? `${shortTime(when)} — ${text}` : text;
    list.prepend(item);
    while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
  },
});
