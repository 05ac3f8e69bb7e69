// Notes above the dashboard (resume results, server errors, refused connections): one per key,
// a newer note with the same key replaces the older one; each can be dismissed.

import { element } from "./dom.js";

export class Notices {
  constructor(container) {
    this.container = container;
    this.byKey = new Map();
    this.show = this.show.bind(this);
  }

  show(text, kind = "info", key = text) {
    this.dismiss(key);
    const close = element("button", { className: "small", text: "Dismiss", attributes: { type: "button" } });
    const note = element("div", { className: `notice notice--${kind}`, attributes: { "data-key": key } }, [
      element("p", { text }),
      close,
    ]);
    close.addEventListener("click", () => this.dismiss(key));
    this.byKey.set(key, note);
    this.container.append(note);
    return note;
  }

  update(key, text) {
    const note = this.byKey.get(key);
    if (note) note.querySelector("p").textContent = text;
  }

  dismiss(key) {
    this.byKey.get(key)?.remove();
    this.byKey.delete(key);
  }
}
