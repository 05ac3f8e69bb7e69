// The rule thresholds on show: from GET /api/stats's `rules` as soon as the stream is live, and
// again with each alert (which carries the threshold it was raised against).

import { duration, money } from "./format.js";

export class RuleThresholds {
  constructor({ amount, spike, window }) {
    this.cells = { amount, spike, window };
    this.spikeThreshold = null;
    this.windowSeconds = null;
    for (const cell of Object.values(this.cells)) cell.title = "known once the server answers";
  }

  /** The `rules` object of a GET /api/stats answer. */
  fromRules(rules) {
    if (!rules) return;
    this.setAmount(rules.amountThreshold);
    this.setSpike(rules.spikeThreshold, rules.spikeWindowSeconds);
  }

  fromAlert(alert) {
    if (alert.rule === "amount_threshold") this.setAmount(alert.threshold);
    if (alert.rule === "syndicate_spike") this.setSpike(alert.threshold, alert.windowSeconds);
  }

  setAmount(threshold) {
    if (threshold === undefined || threshold === null) return;
    this.cells.amount.textContent = money(threshold);
    this.cells.amount.title = "";
  }

  setSpike(threshold, windowSeconds) {
    if (typeof threshold !== "number" || typeof windowSeconds !== "number") return;
    this.spikeThreshold = threshold;
    this.windowSeconds = windowSeconds;
    this.cells.spike.textContent = String(threshold);
    this.cells.window.textContent = duration(windowSeconds);
    this.cells.spike.title = "";
    this.cells.window.title = "";
  }
}
