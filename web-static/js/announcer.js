// Screen-reader announcements through aria-live regions. Bursts of alerts are summarised
// ("5 new alerts") so that a busy feed does not queue minutes of speech.

export class Announcer {
  constructor(statusRegion, alertRegion) {
    this.statusRegion = statusRegion;
    this.alertRegion = alertRegion;
    this.pending = [];
    this.timer = null;
  }

  status(text) {
    this.statusRegion.textContent = text;
  }

  /** Queues one alert's sentence; the queue is spoken once a second at most. */
  alert(sentence) {
    this.pending.push(sentence);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      const sentences = this.pending;
      this.pending = [];
      this.timer = null;
      this.alertRegion.textContent =
        sentences.length === 1 ? `New alert: ${sentences[0]}` : `${sentences.length} new alerts. Latest: ${sentences.at(-1)}`;
    }, 1000);
  }
}
