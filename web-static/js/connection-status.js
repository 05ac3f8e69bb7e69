// The always-visible connection state (with a countdown to the next attempt and a "Reconnect
// now" button), announced to screen readers when it changes.

export class ConnectionStatus {
  constructor({ label, button, announcer, notices, onReconnect }) {
    Object.assign(this, { label, button, announcer, notices });
    this.countdown = null;
    this.wasLive = false;
    button.addEventListener("click", onReconnect);
  }

  /** `{ state, delay, code }` from StreamConnection. */
  show({ state, delay }) {
    clearInterval(this.countdown);
    this.countdown = null;
    const previous = this.label.dataset.state;
    this.label.dataset.state = state;
    this.button.hidden = state === "live" || state === "connecting";
    if (state === "live") {
      this.label.textContent = "live";
      this.announcer.status(this.wasLive ? "Connection restored; the dashboard is live again." : "Connected; the dashboard is live.");
      this.notices.dismiss("refused");
      this.wasLive = true;
      return;
    }
    if (state === "connecting") {
      this.label.textContent = "connecting…";
      return;
    }
    const retryAt = Date.now() + (delay || 0);
    const prefix = state === "refused" ? "refused" : "offline";
    const render = () => {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      this.label.textContent = `${prefix} · retrying in ${seconds} s`;
    };
    render();
    this.countdown = setInterval(render, 1000);
    if (state === "refused") {
      this.notices.show("The server refused the stream (policy close 1008): check the stream token.", "error", "refused");
      this.announcer.status("The server refused the stream; check the stream token.");
    } else if (previous === "live") {
      this.announcer.status(`Connection lost; reconnecting in ${Math.ceil((delay || 0) / 1000)} seconds.`);
    }
  }
}
