// Optional desktop notifications for new alerts (the browser's Notification API, opt-in with a
// button; the choice is remembered in localStorage).

const storageKey = "syndicast.notifications";

export class DesktopNotifications {
  constructor(button, showNotice) {
    this.button = button;
    this.showNotice = showNotice;
    this.supported = typeof Notification !== "undefined";
    this.enabled = this.supported && Notification.permission === "granted" && readChoice() === "on";
    if (!this.supported) {
      button.disabled = true;
      button.title = "This browser has no desktop notifications";
    }
    button.addEventListener("click", () => this.toggle());
    this.render();
  }

  async toggle() {
    if (this.enabled) {
      this.enabled = false;
    } else {
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      this.enabled = permission === "granted";
      if (!this.enabled) this.showNotice("Desktop notifications were not allowed by the browser.", "warning");
    }
    writeChoice(this.enabled ? "on" : "off");
    this.render();
  }

  render() {
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.button.textContent = this.enabled ? "Notifications on" : "Desktop notifications";
  }

  /** Shows one alert as a desktop notification when enabled and the page is not in view. */
  notify(title, body, tag) {
    if (!this.enabled || document.visibilityState === "visible") return;
    try {
      new Notification(title, { body, tag, icon: "/favicon.svg" });
    } catch {
      // Some browsers allow notifications only from a service worker; the feed still shows it.
    }
  }
}

function readChoice() {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

function writeChoice(value) {
  try {
    localStorage.setItem(storageKey, value);
  } catch {
    // Storage may be disabled; the choice then lasts for this page only.
  }
}
