// Syndicast dashboard: one WebSocket to /ws (alerts, rankings, stats), a snapshot on connect,
// live updates after, and resume with since/epoch after a reconnect (no missed alerts).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { epoch: null, seq: 0, alerts: [], rates: [] };
  const maxAlerts = 100;

  function text(tag, value, className) {
    const element = document.createElement(tag);
    element.textContent = value;
    if (className) element.className = className;
    return element;
  }

  function renderRankings(top) {
    const body = $("rankings");
    body.replaceChildren();
    if (!top || top.length === 0) {
      const row = document.createElement("tr");
      const cell = text("td", "no transactions yet", "empty");
      cell.colSpan = 4;
      row.append(cell);
      body.append(row);
      return;
    }
    for (const entry of top) {
      const row = document.createElement("tr");
      row.append(text("td", entry.rank), text("td", entry.investorId),
        text("td", entry.syndicateCount, "num"), text("td", entry.totalInvested, "num"));
      body.append(row);
    }
  }

  function describe(alert) {
    if (alert.rule === "amount_threshold") {
      return `${alert.investorId} invested ${alert.amount} in ${alert.syndicateId} (threshold ${alert.threshold})`;
    }
    return `${alert.syndicateId}: ${alert.count} transactions in ${alert.windowSeconds} s (threshold ${alert.threshold})`;
  }

  function renderAlerts() {
    const list = $("alerts");
    list.replaceChildren();
    if (state.alerts.length === 0) {
      list.append(text("li", "no alerts yet", "empty"));
      return;
    }
    for (const alert of state.alerts) {
      const item = document.createElement("li");
      item.append(text("span", alert.rule.replace("_", " ") + " ", "rule"), text("span", describe(alert) + " "),
        text("span", alert.at, "at"));
      list.append(item);
    }
  }

  function addAlert(alert) {
    if (state.alerts.some((known) => known.id === alert.id)) return;
    state.alerts.unshift(alert);
    state.alerts.length = Math.min(state.alerts.length, maxAlerts);
    renderAlerts();
  }

  function renderChart() {
    const canvas = $("chart");
    const context = canvas.getContext("2d");
    const { width, height } = canvas;
    context.clearRect(0, 0, width, height);
    const values = state.rates;
    if (values.length < 2) return;
    const peak = Math.max(1, ...values);
    context.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent") || "#2a7";
    context.lineWidth = 2;
    context.beginPath();
    values.forEach((value, index) => {
      const x = (index / (values.length - 1)) * width;
      const y = height - (value / peak) * (height - 4) - 2;
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke();
  }

  function setSeq(seq) {
    if (typeof seq === "number" && seq > state.seq) state.seq = seq;
    $("seq").textContent = state.seq;
  }

  function handle(message) {
    switch (message.type) {
      case "hello":
        if (state.epoch !== message.epoch) { state.alerts = []; state.seq = 0; }
        state.epoch = message.epoch;
        $("epoch").textContent = message.epoch;
        break;
      case "snapshot":
        renderRankings(message.rankings);
        state.alerts = [];
        for (const alert of (message.alerts || []).slice().reverse()) addAlert(alert);
        renderAlerts();
        setSeq(message.seq);
        break;
      case "rankings":
        renderRankings(message.top);
        setSeq(message.seq);
        break;
      case "alert":
        addAlert(message.alert);
        setSeq(message.seq);
        break;
      case "stats":
        $("rate").textContent = message.txPerSecond;
        $("total").textContent = message.transactions;
        $("clients").textContent = message.connections;
        state.rates.push(message.txPerSecond);
        if (state.rates.length > 120) state.rates.shift();
        renderChart();
        break;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/ws?topics=alerts,rankings,stats`;
    if (state.epoch) url += `&since=${state.seq}&epoch=${state.epoch}`;
    const socket = new WebSocket(url);
    socket.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
    socket.onmessage = (event) => {
      try { handle(JSON.parse(event.data)); } catch (error) { console.warn("bad message", error); }
    };
    socket.onclose = () => {
      $("status").textContent = "reconnecting…";
      $("status").className = "status";
      setTimeout(connect, 1000);
    };
  }

  connect();
})();
