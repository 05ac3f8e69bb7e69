// A canvas whose backing store matches its CSS size × devicePixelRatio (sharp on HiDPI screens),
// redrawn when its box is resized, the pixel ratio changes (zoom, another screen) or the colour
// scheme flips. Drawing happens in CSS pixels; the palette comes from CSS custom properties.

export class CanvasChart {
  /** `draw(context, width, height, palette)` paints one frame in CSS pixels. */
  constructor(canvas, draw) {
    this.canvas = canvas;
    this.draw = draw;
    this.frame = 0;
    new ResizeObserver(() => this.redraw()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
    this.watchPixelRatio();
  }

  watchPixelRatio() {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    query.addEventListener("change", () => {
      this.watchPixelRatio();
      this.redraw();
    }, { once: true });
  }

  /** Schedules one redraw on the next animation frame (many updates in a frame draw once). */
  redraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  paint() {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width === 0 || height === 0) return;
    const pixelWidth = Math.round(width * ratio);
    const pixelHeight = Math.round(height * ratio);
    if (this.canvas.width !== pixelWidth) this.canvas.width = pixelWidth;
    if (this.canvas.height !== pixelHeight) this.canvas.height = pixelHeight;
    const context = this.canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    this.draw(context, width, height, palette());
  }
}

function palette() {
  const style = getComputedStyle(document.documentElement);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    line: read("--chart-line", "#1a7f5a"),
    fill: read("--chart-fill", "#1a7f5a33"),
    grid: read("--chart-grid", "#8884"),
    text: read("--muted", "#666"),
    warn: read("--warn", "#c4412b"),
    spike: read("--spike", "#8a4fd8"),
    font: `12px ${style.fontFamily || "system-ui, sans-serif"}`,
  };
}

/** A horizontal grid line at `y` with `label` at the left edge. */
export function gridLine(context, y, width, label, colors) {
  context.strokeStyle = colors.grid;
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(0, Math.round(y) + 0.5);
  context.lineTo(width, Math.round(y) + 0.5);
  context.stroke();
  context.fillStyle = colors.text;
  context.font = colors.font;
  context.textBaseline = "bottom";
  context.fillText(label, 2, y - 2);
}

/** A "nice" upper bound for an axis that shows `peak` (1, 2, 5 × 10^n). */
export function niceCeiling(peak) {
  if (!(peak > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(peak));
  for (const step of [1, 2, 5, 10]) if (peak <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}
