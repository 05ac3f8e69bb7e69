// Text formatting: money kept as the server's exact decimal strings, times, rule names.

const ruleLabels = { amount_threshold: "Large amount", syndicate_spike: "Syndicate spike" };

/** A human label for a rule name; unknown rules are shown with every underscore as a space. */
export function ruleLabel(rule) {
  return ruleLabels[rule] || String(rule || "unknown rule").replaceAll("_", " ");
}

/** "25000.00" → "25,000.00" without going through a float (amounts are exact cents). */
export function money(decimal) {
  const text = String(decimal ?? "");
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(text);
  if (!match) return text;
  return match[1] + match[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (match[3] || "");
}

/** An integer with group separators. */
export function count(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toLocaleString("en-US") : "–";
}

/** Seconds as "60 s", "5 min", "1 h". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The local clock time of an RFC 3339 timestamp, with the date when it is not today. */
export function clockTime(timestamp) {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return String(timestamp ?? "");
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 4 s" for a future time. */
export function timeAgo(timestamp, now = Date.now()) {
  const then = new Date(timestamp).getTime();
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 0) return `in ${duration(-seconds)}`;
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}
