// Syndicast dashboard: wires the stream connection to the feed, rankings, charts, tape and form.
// One WebSocket to /ws (alerts, rankings, stats; transactions while the tape is shown); a
// snapshot on the first connect, a replay of the missed events after a reconnect.

import { ConnectionStatus } from "./connection-status.js";
import { AlertFeed, describeAlert } from "./alert-feed.js";
import { AlertRateChart, RateChart } from "./activity-charts.js";
import { Announcer } from "./announcer.js";
import { Counters } from "./counters.js";
import { DesktopNotifications } from "./desktop-notifications.js";
import { byId } from "./dom.js";
import { ruleLabel } from "./format.js";
import { Notices } from "./notices.js";
import { RankingsTable } from "./rankings-table.js";
import { RuleThresholds } from "./rule-thresholds.js";
import { getJSON } from "./server-api.js";
import { StreamConnection } from "./stream-connection.js";
import { tokenFromFragment } from "./stream-token.js";
import { SyndicateWindows } from "./syndicate-windows.js";
import { TransactionForm } from "./transaction-form.js";
import { TransactionTape } from "./transaction-tape.js";

const announcer = new Announcer(byId("announcer-status"), byId("announcer-alerts"));
const notices = new Notices(byId("notices"));
const thresholds = new RuleThresholds({ amount: byId("threshold-amount"), spike: byId("threshold-spike"), window: byId("threshold-window") });
const counters = new Counters({
  rate: byId("counter-rate"), transactions: byId("counter-transactions"), alerts: byId("counter-alerts"),
  investors: byId("counter-investors"), syndicates: byId("counter-syndicates"), connections: byId("counter-connections"),
});
const rateChart = new RateChart(byId("rate-chart"), byId("rate-chart-summary"));
const alertChart = new AlertRateChart(byId("alert-chart"), byId("alert-chart-summary"));
const rankings = new RankingsTable(byId("rankings-body"), byId("rankings-empty"));
const notifications = new DesktopNotifications(byId("alert-notifications"), notices.show);
const connection = new StreamConnection({
  topics: ["alerts", "rankings", "stats"],
  token: tokenFromFragment(),
  onMessage: handle,
  onState: (change) => status.show(change),
});
const status = new ConnectionStatus({
  label: byId("connection-status"), button: byId("reconnect-now"), announcer, notices,
  onReconnect: () => connection.reconnectNow(),
});
const windows = new SyndicateWindows({ canvas: byId("windows-chart"), thresholds, isLive: () => connection.isOpen });
const feed = new AlertFeed({
  list: byId("alert-feed"), empty: byId("alert-empty"), countLabel: byId("alert-count"),
  ruleFilter: byId("alert-rule-filter"), textFilter: byId("alert-text-filter"), pauseButton: byId("alert-pause"),
  onNewAlert: (alert) => {
    thresholds.fromAlert(alert);
    windows.saw(alert.syndicateId);
    alertChart.add(alert);
    counters.alertArrived();
    const sentence = `${ruleLabel(alert.rule)}: ${describeAlert(alert)}`;
    announcer.alert(sentence);
    notifications.notify(ruleLabel(alert.rule), describeAlert(alert), alert.id);
  },
});
const tape = new TransactionTape({
  list: byId("tape-list"), toggle: byId("tape-toggle"),
  onToggle: (shown) => connection.setTopic("transactions", shown),
});
new TransactionForm({
  form: byId("transaction-form"), result: byId("form-result"), apiKeyField: byId("api-key-field"),
  onAccepted: (transaction) => windows.saw(transaction.syndicateId),
});

/** While resuming: the seq the server had at hello, the seq we resumed from, and how many events were replayed. */
let resume = null;

function handle(message) {
  switch (message.type) {
    case "hello":
      resume = connection.isResuming && connection.epoch === message.epoch
        ? { from: connection.seq, upTo: message.seq, replayed: 0 } : null;
      if (resume) reportResume();
      connection.remember(message.epoch, connection.epoch === message.epoch ? connection.seq : 0);
      byId("epoch").textContent = message.epoch;
      byId("stream-topics").textContent = (message.topics || []).join(", ");
      refreshServerStatistics();
      break;
    case "snapshot":
      if (message.recovered === false) {
        resume = null;
        notices.show(
          "The server no longer had the events this page missed (or it restarted with another history), so the page reloaded its state from a snapshot.",
          "warning", "resume");
        announcer.status("Missed events were not available; the dashboard reloaded its state.");
      }
      rankings.update(message.rankings, false);
      feed.replaceAll(message.alerts);
      for (const alert of message.alerts || []) {
        thresholds.fromAlert(alert);
        windows.saw(alert.syndicateId);
      }
      windows.sawInvestor(message.rankings?.[0]?.investorId);
      sequenced(message);
      break;
    case "alert":
      if (!sequenced(message)) return;
      feed.add(message.alert);
      break;
    case "rankings":
      if (!sequenced(message)) return;
      rankings.update(message.top, true);
      windows.sawInvestor(message.top?.[0]?.investorId);
      break;
    case "transaction":
      if (!sequenced(message)) return;
      tape.add(message.transaction);
      windows.saw(message.transaction?.syndicateId);
      break;
    case "stats":
      counters.fromStatsEvent(message);
      rateChart.add(message.txPerSecond);
      break;
    case "subscribed":
      byId("stream-topics").textContent = (message.topics || []).join(", ");
      break;
    case "error":
      notices.show(`The server refused a request: ${message.message || "no details"} (${message.code || "error"}).`, "error", "server-error");
      break;
    default:
      break; // other topics' messages and pongs are not shown here
  }
}

/** Records a sequenced event's seq; false when it was already seen (a repeat after a resume). */
function sequenced(message) {
  if (typeof message.seq !== "number") return true;
  if (message.type !== "snapshot" && message.seq <= connection.seq) return false;
  connection.remember(connection.epoch, message.seq);
  byId("seq").textContent = String(connection.seq);
  if (resume && message.seq <= resume.upTo && message.type !== "snapshot") {
    resume.replayed += 1;
    reportResume();
  }
  return true;
}

function reportResume() {
  const { from, replayed } = resume;
  const text = replayed === 0
    ? `Reconnected and resumed from seq ${from}; nothing shown here was missed.`
    : `Reconnected and resumed from seq ${from}: ${replayed} missed event${replayed === 1 ? "" : "s"} replayed.`;
  if (replayed === 0) notices.show(text, "info", "resume");
  else notices.update("resume", text);
}

async function refreshServerStatistics() {
  if (!connection.isOpen) return;
  const statistics = await getJSON("/api/stats");
  counters.fromServerStatistics(statistics);
  thresholds.fromRules(statistics.rules);
}

setInterval(refreshServerStatistics, 10_000);
byId("token-input").value = connection.token;
byId("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  connection.setToken(byId("token-input").value.trim());
});
window.addEventListener("hashchange", () => {
  const token = tokenFromFragment();
  if (token && token !== connection.token) {
    byId("token-input").value = token;
    connection.setToken(token);
  }
});
window.addEventListener("online", () => { if (!connection.isOpen) connection.reconnectNow(); });
connection.start();
