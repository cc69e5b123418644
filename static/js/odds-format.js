/**
 * odds-format.js: a decimal price ("2.35", as the player API and the odds socket write it) in
 * the formats of apps/sportsbook/odds.py, with the same results, computed on whole numbers only
 * (hundredths of the price), never a float:
 *
 * - decimal: as given, two places;
 * - fractional: the profit per unit staked, reduced: (price - 1) = (cents - 100) / 100 -> "27/20";
 * - American: from 2.00, +100 x (price - 1) = +(cents - 100); below, -100 / (price - 1) =
 *   -10000 / (cents - 100), a whole number when it divides, else two places rounded half-even
 *   ("-109.89"), as odds.american_string writes it.
 *
 * The browser test compares every price of the exchanges' ladder with odds.display.
 */

export const FORMATS = ["decimal", "fractional", "american"];

/** "2.35" -> 235; null for anything that is not a price with at most two decimals above 1. */
export function cents(price) {
  const match = /^([0-9]{1,5})(?:\.([0-9]{1,2}))?$/.exec(String(price));
  if (!match) return null;
  const value = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  return value > 100 ? value : null;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** 235 -> "2.35". */
export function decimalString(hundredths) {
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, "0")}`;
}

export function fractionalString(hundredths) {
  const profit = hundredths - 100;
  const divisor = gcd(profit, 100);
  return `${profit / divisor}/${100 / divisor}`;
}

export function americanString(hundredths) {
  const profit = hundredths - 100; // the price's profit in hundredths
  if (profit >= 100) return `+${profit}`;
  if (10000 % profit === 0) return `-${10000 / profit}`;
  // -10000 / profit to two places: 1,000,000 / profit in hundredths, rounded half-even.
  let shown = Math.floor(1000000 / profit);
  const twice = 2 * (1000000 % profit);
  if (twice > profit || (twice === profit && shown % 2 === 1)) shown += 1;
  return `-${Math.floor(shown / 100)}.${String(shown % 100).padStart(2, "0")}`;
}

/** The price as a player who chose `format` reads it; the text as given when it is no price. */
export function display(price, format) {
  const hundredths = cents(price);
  if (hundredths === null) return String(price);
  if (format === "fractional") return fractionalString(hundredths);
  if (format === "american") return americanString(hundredths);
  return decimalString(hundredths);
}
