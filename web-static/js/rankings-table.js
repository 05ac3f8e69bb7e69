// Top investors, updated in place: each investor keeps its row, rows move to their new rank, and
// the row says what moved (up, down, new) and why (distinct syndicates, total invested).

import { element, flash } from "./dom.js";
import { money } from "./format.js";

export class RankingsTable {
  constructor(body, empty) {
    this.body = body;
    this.empty = empty;
    this.rows = new Map(); // investorId → { row, entry }
    this.hasRendered = false;
  }

  /** Shows `top` (a snapshot or a live rankings event); `compare` marks what moved since the last list. */
  update(top, compare = true) {
    const entries = Array.isArray(top) ? top : [];
    const previous = new Map([...this.rows].map(([id, { entry }]) => [id, entry]));
    const next = new Map();
    for (const entry of entries) {
      const known = this.rows.get(entry.investorId);
      const row = known ? known.row : this.newRow(entry.investorId);
      this.fill(row, entry, compare && this.hasRendered ? previous.get(entry.investorId) : entry);
      next.set(entry.investorId, { row, entry });
      this.body.append(row); // moves an existing row into its new position
    }
    for (const [id, { row }] of this.rows) if (!next.has(id)) row.remove();
    this.rows = next;
    this.hasRendered = true;
    this.empty.hidden = entries.length > 0;
  }

  newRow(investorId) {
    const row = element("tr", { attributes: { "data-investor": investorId } }, [
      element("td", { className: "rank" }),
      element("td", { className: "movement" }),
      element("th", { className: "investor", text: investorId, attributes: { scope: "row", title: investorId } }),
      element("td", { className: "num syndicates" }),
      element("td", { className: "num total" }),
    ]);
    return row;
  }

  fill(row, entry, before) {
    const [rankCell, movementCell, , syndicatesCell, totalCell] = row.children;
    rankCell.textContent = entry.rank;
    const movement = describeMovement(before, entry);
    movementCell.replaceChildren(
      element("span", { className: `move move--${movement.kind}`, text: movement.symbol, attributes: { "aria-hidden": "true" } }),
      element("span", { className: "visually-hidden", text: movement.words }),
    );
    movementCell.title = movement.words;
    row.dataset.movement = movement.kind;
    if (syndicatesCell.textContent !== String(entry.syndicateCount)) {
      if (syndicatesCell.textContent) flash(syndicatesCell, "changed", 3000);
      syndicatesCell.textContent = entry.syndicateCount;
    }
    const total = money(entry.totalInvested);
    if (totalCell.textContent !== total) {
      if (totalCell.textContent) flash(totalCell, "changed", 3000);
      totalCell.textContent = total;
    }
    if (movement.kind !== "same") flash(row, "moved", 3000);
  }
}

/** How `entry` moved relative to `before` (the same investor's previous entry, if any). */
export function describeMovement(before, entry) {
  if (!before) return { kind: "new", symbol: "new", words: "new in the top list" };
  if (before === entry || before.rank === entry.rank) return { kind: "same", symbol: "–", words: "unchanged" };
  const steps = before.rank - entry.rank;
  return steps > 0
    ? { kind: "up", symbol: `▲${steps}`, words: `up ${steps}` }
    : { kind: "down", symbol: `▼${-steps}`, words: `down ${-steps}` };
}
