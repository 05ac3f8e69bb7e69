// The one WebSocket to /ws: builds the URL (topics, resume point, token), reports its state,
// reconnects with jittered capped exponential backoff and resumes with since/epoch.

import { reconnectDelay } from "./backoff.js";

/**
 * States reported to `onState({ state, delay, code })`: "connecting", "live", "waiting" (a retry
 * is scheduled in `delay` ms), "refused" (closed with 1008: token or origin refused; still retried).
 */
export class StreamConnection {
  constructor({ topics, onMessage, onState, token = "" }) {
    this.topics = new Set(topics);
    this.onMessage = onMessage;
    this.onState = onState;
    this.token = token;
    this.epoch = null;
    this.seq = 0;
    this.attempt = 0;
    this.socket = null;
    this.retryTimer = null;
  }

  /** The resume point: the last sequenced event seen in `epoch`. */
  remember(epoch, seq) {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.seq = 0;
    }
    if (typeof seq === "number" && seq > this.seq) this.seq = seq;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ topics: [...this.topics].join(",") });
    if (this.epoch) {
      query.set("since", String(this.seq));
      query.set("epoch", this.epoch);
    }
    if (this.token) query.set("token", this.token);
    return `${scheme}//${location.host}/ws?${query.toString().replaceAll("%2C", ",")}`;
  }

  get isResuming() {
    return this.epoch !== null;
  }

  start() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.onState({ state: "connecting" });
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not JSON: not a message of this contract
      }
      if (message.type === "hello") {
        this.attempt = 0;
        this.onState({ state: "live" });
      }
      this.onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.scheduleRetry(event.code);
    });
  }

  scheduleRetry(code) {
    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    this.onState({ state: code === 1008 ? "refused" : "waiting", delay, code });
    this.retryTimer = setTimeout(() => this.start(), delay);
  }

  /** Drops the current socket (if any) and connects at once. */
  reconnectNow() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "reconnect");
    this.start();
  }

  setToken(token) {
    this.token = token;
    this.reconnectNow();
  }

  /** Adds or removes a topic: on the open socket with an op, and in the URL of later reconnects. */
  setTopic(topic, enabled) {
    if (enabled) this.topics.add(topic);
    else this.topics.delete(topic);
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ op: enabled ? "subscribe" : "unsubscribe", topics: [topic] }));
    }
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }
}
