// The live tape of incoming transactions (the `transactions` topic), behind a toggle: subscribed
// only while shown, at most 50 rows in the DOM, rendered once per animation frame.

import { element } from "./dom.js";
import { clockTime, money } from "./format.js";

const maximumRows = 50;

export class TransactionTape {
  constructor({ list, toggle, onToggle }) {
    this.list = list;
    this.toggle = toggle;
    this.onToggle = onToggle;
    this.queue = [];
    this.frame = 0;
    this.shown = false;
    toggle.addEventListener("click", () => this.setShown(!this.shown));
  }

  setShown(shown) {
    this.shown = shown;
    this.list.hidden = !shown;
    this.toggle.setAttribute("aria-pressed", String(shown));
    this.toggle.textContent = shown ? "Hide live transactions" : "Show live transactions";
    if (!shown) {
      this.queue = [];
      this.list.replaceChildren();
    }
    this.onToggle(shown);
  }

  add(transaction) {
    if (!this.shown || !transaction) return;
    this.queue.push(transaction);
    if (this.queue.length > maximumRows) this.queue.splice(0, this.queue.length - maximumRows);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    const rows = this.queue.map((transaction) =>
      element("li", { className: "tape-row" }, [
        element("time", { text: clockTime(transaction.timestamp), attributes: { datetime: transaction.timestamp } }),
        element("span", { className: "tape-who", text: `${transaction.investorId} → ${transaction.syndicateId}` }),
        element("span", { className: "num", text: money(transaction.amount) }),
      ]),
    );
    this.queue = [];
    this.list.prepend(...rows.reverse());
    while (this.list.children.length > maximumRows) this.list.lastElementChild.remove();
  }
}
