/**
 * The wallet page (templates/site/player.html): the balance's parts and the last transactions,
 * from the frames of the site's one live wallet (site.js on pam-realtime.js).
 */
import { formatMinor, subscribe } from "./site.js";

const config = JSON.parse(document.getElementById("wallet-page").textContent);
const $ = (id) => document.getElementById(id);

function showState(state) {
  $("balance").textContent = formatMinor(state.balance);
  $("cash").textContent = formatMinor(state.cash);
  $("bonus").textContent = formatMinor(state.bonus);
  $("currency").textContent = state.currency;
}

function showTransaction(transaction, frame) {
  const row = document.createElement("tr");
  row.dataset.version = String(frame.version);
  const cells = [
    (transaction.created_at || "").slice(0, 19).replace("T", " "),
    config.kinds[transaction.kind] || transaction.kind,
    formatMinor(transaction.amount),
    formatMinor(frame.balance),
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

subscribe({ onState: showState, onTransaction: showTransaction });
