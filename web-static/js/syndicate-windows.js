// The busiest syndicates: each one's transactions in the spike window against the spike threshold,
// as horizontal bars. Candidates are the syndicates the page has seen (alerts, the tape, test
// transactions, the top investors' syndicates); their window counts come from
// GET /api/syndicates/{id}, refreshed every few seconds while the stream is live.

import { CanvasChart } from "./canvas-chart.js";
import { duration } from "./format.js";
import { getJSON } from "./server-api.js";

const maximumCandidates = 40;
const lookupsPerRefresh = 10;
const shownSyndicates = 6;
const rowHeight = 26;

export class SyndicateWindows {
  constructor({ canvas, thresholds, isLive }) {
    this.canvas = canvas;
    this.thresholds = thresholds;
    this.isLive = isLive;
    this.candidates = []; // most recently seen first
    this.summaries = new Map(); // syndicateId → summary
    this.dirty = false;
    this.refreshing = false;
    this.lastInvestorLookup = 0;
    this.chart = new CanvasChart(canvas, (context, width, height, colors) => this.paint(context, width, height, colors));
    setInterval(() => this.refresh(false), 3000);
  }

  /** Notes that `syndicateId` had activity (it moves to the front of the candidates). */
  saw(syndicateId) {
    if (!syndicateId) return;
    const index = this.candidates.indexOf(syndicateId);
    if (index !== 0) {
      if (index > 0) this.candidates.splice(index, 1);
      this.candidates.unshift(syndicateId);
      this.candidates.length = Math.min(this.candidates.length, maximumCandidates);
    }
    this.dirty = true;
  }

  /** Adds the syndicates of the top investor (at most one lookup every 10 s). */
  async sawInvestor(investorId) {
    if (!investorId || !this.isLive() || Date.now() - this.lastInvestorLookup < 10_000) return;
    this.lastInvestorLookup = Date.now();
    const investor = await getJSON(`/api/investors/${encodeURIComponent(investorId)}`);
    for (const syndicateId of investor?.syndicateIds?.slice(0, lookupsPerRefresh) || []) this.saw(syndicateId);
    this.refresh(true);
  }

  /** Looks up the candidates' window counts when something changed (or every 30 s to show expiry). */
  async refresh(force) {
    if (this.refreshing || !this.isLive() || this.candidates.length === 0) return;
    const stale = Date.now() - (this.lastRefresh || 0) > 30_000;
    if (!force && !this.dirty && !stale) return;
    this.refreshing = true;
    this.dirty = false;
    try {
      const wanted = this.candidates.slice(0, lookupsPerRefresh);
      const answers = await Promise.all(wanted.map((id) => getJSON(`/api/syndicates/${encodeURIComponent(id)}`)));
      for (const summary of answers) {
        if (!summary) continue;
        this.summaries.set(summary.syndicateId, summary);
        this.thresholds.setSpike(summary.spikeThreshold, summary.windowSeconds);
      }
      for (const id of this.summaries.keys()) if (!this.candidates.includes(id)) this.summaries.delete(id);
      this.lastRefresh = Date.now();
      this.show();
    } finally {
      this.refreshing = false;
    }
  }

  busiest() {
    return [...this.summaries.values()]
      .filter((summary) => summary.windowCount > 0)
      .sort((a, b) => b.windowCount - a.windowCount || a.syndicateId.localeCompare(b.syndicateId))
      .slice(0, shownSyndicates);
  }

  show() {
    const rows = this.busiest();
    this.canvas.style.height = `${Math.max(1, rows.length) * rowHeight + 8}px`;
    const threshold = this.thresholds.spikeThreshold;
    const window = duration(this.thresholds.windowSeconds);
    const parts = rows.map((row) => `${row.syndicateId} ${row.windowCount} of ${threshold}${row.spiking ? " (spiking)" : ""}`);
    this.canvas.setAttribute(
      "aria-label",
      rows.length ? `busiest syndicates, transactions in the last ${window} against threshold ${threshold}: ${parts.join("; ")}` :
        "busiest syndicates: no transactions in the window",
    );
    this.canvas.dataset.syndicates = JSON.stringify(rows.map((row) => [row.syndicateId, row.windowCount]));
    this.chart.redraw();
  }

  paint(context, width, height, colors) {
    const rows = this.busiest();
    const threshold = this.thresholds.spikeThreshold || 0;
    context.font = colors.font;
    context.textBaseline = "middle";
    if (rows.length === 0) {
      context.fillStyle = colors.text;
      context.fillText("no syndicate has transactions in the window yet", 4, height / 2);
      return;
    }
    const labelWidth = Math.min(width * 0.4, 9 + Math.max(...rows.map((row) => context.measureText(row.syndicateId).width)));
    const countWidth = 64;
    const plotWidth = Math.max(10, width - labelWidth - countWidth);
    const top = Math.max(threshold * 1.25, ...rows.map((row) => row.windowCount)) || 1;
    rows.forEach((row, index) => {
      const y = 4 + index * rowHeight;
      context.fillStyle = colors.text;
      context.fillText(ellipsis(context, row.syndicateId, labelWidth - 8), 0, y + rowHeight / 2);
      context.fillStyle = row.windowCount > threshold ? colors.warn : colors.line;
      context.fillRect(labelWidth, y + 5, (row.windowCount / top) * plotWidth, rowHeight - 10);
      context.fillStyle = colors.text;
      context.fillText(`${row.windowCount} / ${threshold}`, labelWidth + plotWidth + 6, y + rowHeight / 2);
    });
    if (threshold > 0) {
      const x = Math.round(labelWidth + (threshold / top) * plotWidth) + 0.5;
      context.strokeStyle = colors.warn;
      context.setLineDash([4, 3]);
      context.beginPath();
      context.moveTo(x, 0);
      context.lineTo(x, height);
      context.stroke();
      context.setLineDash([]);
    }
  }
}

function ellipsis(context, text, width) {
  if (context.measureText(text).width <= width) return text;
  let cut = text;
  while (cut.length > 1 && context.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}
