// The live alert feed, newest first: filter by rule and by syndicate or investor, pause without
// losing what arrives meanwhile, new alerts highlighted for a moment, "how long ago" kept current.

import { element, flash } from "./dom.js";
import { clockTime, duration, money, ruleLabel, timeAgo } from "./format.js";

const maximumAlerts = 200;
const highlightMilliseconds = 6000;

/** One sentence for an alert (the feed's main line, announcements and notifications). */
export function describeAlert(alert) {
  if (alert.rule === "syndicate_spike") {
    return `${alert.syndicateId}: ${alert.count} transactions in ${duration(alert.windowSeconds)}`;
  }
  if (alert.rule === "amount_threshold") {
    return `${alert.investorId} invested ${money(alert.amount)} in ${alert.syndicateId}`;
  }
  return `${alert.syndicateId || ""} ${alert.investorId || ""}`.trim();
}

function thresholdText(alert) {
  if (alert.rule === "syndicate_spike") {
    return `threshold ${alert.threshold} · latest by ${alert.investorId}`;
  }
  return `threshold ${money(alert.threshold)}`;
}

export class AlertFeed {
  constructor({ list, empty, countLabel, ruleFilter, textFilter, pauseButton, onNewAlert }) {
    Object.assign(this, { list, empty, countLabel, ruleFilter, textFilter, pauseButton, onNewAlert });
    this.alerts = []; // newest first
    this.known = new Set();
    this.pending = [];
    this.heldBack = 0;
    this.paused = false;
    ruleFilter.addEventListener("change", () => this.applyFilter());
    textFilter.addEventListener("input", () => this.applyFilter());
    pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    setInterval(() => this.refreshTimes(), 10_000);
    this.render();
  }

  /** The snapshot's recent alerts (newest first) replace the feed; they are not "new". */
  replaceAll(alerts) {
    this.alerts = [];
    this.known = new Set();
    this.pending = [];
    this.heldBack = 0;
    this.list.replaceChildren();
    for (const alert of [...(alerts || [])].reverse()) this.insert(alert, false);
    this.render();
  }

  /** A live or replayed alert; held back while paused. */
  add(alert) {
    if (!alert || this.known.has(alert.id)) return;
    this.known.add(alert.id);
    if (this.paused) {
      this.pending.push(alert);
      this.heldBack += 1;
      if (this.pending.length > maximumAlerts) this.pending.shift(); // only the newest would be shown
    } else {
      this.insert(alert, true);
    }
    this.onNewAlert(alert);
    this.render();
  }

  insert(alert, highlight) {
    this.known.add(alert.id);
    this.alerts.unshift(alert);
    const item = this.item(alert);
    this.list.prepend(item);
    if (highlight) flash(item, "is-new", highlightMilliseconds);
    while (this.alerts.length > maximumAlerts) {
      this.alerts.pop();
      this.list.lastElementChild?.remove();
    }
    item.hidden = !this.matches(alert);
  }

  item(alert) {
    const kind = alert.rule === "syndicate_spike" ? "spike" : alert.rule === "amount_threshold" ? "amount" : "other";
    const time = element("time", { className: "alert-time", text: clockTime(alert.at), attributes: { datetime: alert.at } });
    const ago = element("span", { className: "alert-ago", text: timeAgo(alert.at) });
    const item = element("li", { className: `alert alert--${kind}`, attributes: { "data-alert-id": alert.id } }, [
      element("span", { className: "alert-rule", text: ruleLabel(alert.rule) }),
      element("span", { className: "alert-text", text: describeAlert(alert) }),
      element("span", { className: "alert-threshold", text: thresholdText(alert) }),
      element("span", { className: "alert-when" }, [time, " · ", ago]),
    ]);
    item.dataset.at = alert.at;
    return item;
  }

  matches(alert) {
    const rule = this.ruleFilter.value;
    if (rule && alert.rule !== rule) return false;
    const text = this.textFilter.value.trim().toLowerCase();
    if (!text) return true;
    return [alert.syndicateId, alert.investorId].some((value) => String(value || "").toLowerCase().includes(text));
  }

  applyFilter() {
    this.alerts.forEach((alert, index) => {
      const item = this.list.children[index];
      if (item) item.hidden = !this.matches(alert);
    });
    this.render();
  }

  setPaused(paused) {
    this.paused = paused;
    if (!paused) {
      for (const alert of this.pending) this.insert(alert, true);
      this.pending = [];
      this.heldBack = 0;
    }
    this.render();
  }

  refreshTimes() {
    for (const item of this.list.children) {
      const ago = item.querySelector(".alert-ago");
      if (ago) ago.textContent = timeAgo(item.dataset.at);
    }
  }

  render() {
    const shown = this.alerts.filter((alert) => this.matches(alert)).length;
    this.empty.hidden = this.alerts.length > 0;
    this.empty.textContent = "No alerts yet.";
    const filtered = shown === this.alerts.length ? `${shown} alerts` : `${shown} of ${this.alerts.length} alerts`;
    this.countLabel.textContent = this.alerts.length ? filtered : "";
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    this.pauseButton.textContent = this.paused ? `Resume (${this.heldBack} new)` : "Pause";
    this.list.classList.toggle("is-paused", this.paused);
  }
}
