// The totals at the top: filled from GET /api/stats as soon as the stream is live (so they never
// read 0 while waiting for a tick), then from each `stats` event and each new alert.

import { count } from "./format.js";

export class Counters {
  constructor(cells) {
    this.cells = cells; // { rate, transactions, alerts, investors, syndicates, connections }
  }

  /** A GET /api/stats answer (every counter). */
  fromServerStatistics(statistics) {
    if (!statistics) return;
    this.set("rate", statistics.txPerSecond);
    for (const name of ["transactions", "alerts", "investors", "syndicates", "connections"]) this.set(name, statistics[name]);
  }

  /** A `stats` stream event (rate, transactions, connections). */
  fromStatsEvent(message) {
    this.set("rate", message.txPerSecond);
    this.set("transactions", message.transactions);
    this.set("connections", message.connections);
  }

  alertArrived() {
    if (typeof this.values?.alerts === "number") this.set("alerts", this.values.alerts + 1);
  }

  set(name, value) {
    if (typeof value !== "number") return;
    this.values = { ...this.values, [name]: value };
    this.cells[name].textContent = count(value);
  }
}
