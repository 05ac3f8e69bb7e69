// The Activity charts: transactions per second over the last 5 minutes (the `stats` topic's
// ~1/s samples) and alerts per minute over the last 10 minutes (alerts as they arrive, by rule).

import { CanvasChart, gridLine, niceCeiling } from "./canvas-chart.js";

const rateSpanMilliseconds = 5 * 60_000;
const alertMinutes = 10;

export class RateChart {
  constructor(canvas, summary) {
    this.canvas = canvas;
    this.summary = summary;
    this.samples = []; // { time, value }
    this.chart = new CanvasChart(canvas, (context, width, height, colors) => this.paint(context, width, height, colors));
    setInterval(() => this.chart.redraw(), 5000); // scrolls the time axis when no samples arrive
  }

  add(value, time = Date.now()) {
    if (typeof value !== "number") return;
    this.samples.push({ time, value });
    while (this.samples.length && this.samples[0].time < time - rateSpanMilliseconds) this.samples.shift();
    const peak = Math.max(...this.samples.map((sample) => sample.value));
    const text = `latest ${value}/s, peak ${peak}/s`;
    this.summary.textContent = `(${text})`;
    this.canvas.setAttribute("aria-label", `transactions per second, last 5 minutes: ${text}`);
    this.canvas.dataset.samples = String(this.samples.length);
    this.chart.redraw();
  }

  paint(context, width, height, colors) {
    const now = Date.now();
    const top = niceCeiling(Math.max(1, ...this.samples.map((sample) => sample.value)));
    const plotTop = 16;
    const y = (value) => height - 1 - (value / top) * (height - plotTop - 1);
    gridLine(context, y(top), width, `${top}/s`, colors);
    gridLine(context, y(0), width, "", colors);
    if (this.samples.length === 0) return;
    const x = (time) => ((time - (now - rateSpanMilliseconds)) / rateSpanMilliseconds) * width;
    context.beginPath();
    this.samples.forEach((sample, index) => {
      if (index === 0) context.moveTo(x(sample.time), y(sample.value));
      else context.lineTo(x(sample.time), y(sample.value));
    });
    context.strokeStyle = colors.line;
    context.lineWidth = 2;
    context.lineJoin = "round";
    context.stroke();
    context.lineTo(x(this.samples.at(-1).time), y(0));
    context.lineTo(x(this.samples[0].time), y(0));
    context.closePath();
    context.fillStyle = colors.fill;
    context.fill();
  }
}

export class AlertRateChart {
  constructor(canvas, summary) {
    this.canvas = canvas;
    this.summary = summary;
    this.minutes = new Map(); // minute number → { amount, spike }
    this.chart = new CanvasChart(canvas, (context, width, height, colors) => this.paint(context, width, height, colors));
    setInterval(() => this.chart.redraw(), 15_000);
  }

  add(alert, time = Date.now()) {
    const minute = Math.floor(time / 60_000);
    const bucket = this.minutes.get(minute) || { amount: 0, spike: 0 };
    if (alert.rule === "syndicate_spike") bucket.spike += 1;
    else bucket.amount += 1;
    this.minutes.set(minute, bucket);
    for (const key of this.minutes.keys()) if (key <= minute - alertMinutes) this.minutes.delete(key);
    const total = bucket.amount + bucket.spike;
    const text = `this minute ${total} (${bucket.amount} large amount, ${bucket.spike} spike)`;
    this.summary.textContent = `(${text})`;
    this.canvas.setAttribute("aria-label", `alerts per minute, last 10 minutes: ${text}`);
    this.canvas.dataset.alerts = String([...this.minutes.values()].reduce((sum, b) => sum + b.amount + b.spike, 0));
    this.chart.redraw();
  }

  paint(context, width, height, colors) {
    const current = Math.floor(Date.now() / 60_000);
    const buckets = [];
    for (let minute = current - alertMinutes + 1; minute <= current; minute += 1) {
      buckets.push(this.minutes.get(minute) || { amount: 0, spike: 0 });
    }
    const top = niceCeiling(Math.max(1, ...buckets.map((bucket) => bucket.amount + bucket.spike)));
    const plotTop = 16;
    const scale = (height - plotTop - 1) / top;
    gridLine(context, height - 1 - top * scale, width, `${top}/min`, colors);
    gridLine(context, height - 1, width, "", colors);
    const slot = width / alertMinutes;
    const barWidth = Math.max(2, slot * 0.7);
    buckets.forEach((bucket, index) => {
      const left = index * slot + (slot - barWidth) / 2;
      const amountHeight = bucket.amount * scale;
      const spikeHeight = bucket.spike * scale;
      context.fillStyle = colors.warn;
      context.fillRect(left, height - 1 - amountHeight, barWidth, amountHeight);
      context.fillStyle = colors.spike;
      context.fillRect(left, height - 1 - amountHeight - spikeHeight, barWidth, spikeHeight);
    });
  }
}
