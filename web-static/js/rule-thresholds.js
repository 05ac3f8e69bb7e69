// The rule thresholds on show. The server publishes them per event rather than in hello or
// /api/stats: the amount threshold arrives with each large-amount alert, the spike threshold and
// window with each spike alert and in every /api/syndicates/{id} answer.

import { duration, money } from "./format.js";

export class RuleThresholds {
  constructor({ amount, spike, window }) {
    this.cells = { amount, spike, window };
    this.spikeThreshold = null;
    this.windowSeconds = null;
    for (const cell of Object.values(this.cells)) cell.title = "known after the first alert or syndicate lookup";
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
