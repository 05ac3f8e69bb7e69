// Placeholder dashboard: connects to /ws, shows the connection state and each message received.
(function () {
  const status = document.getElementById("status");
  const list = document.getElementById("events");
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + "/ws");
    socket.onopen = () => { status.textContent = "live"; status.className = "status live"; };
    socket.onmessage = (event) => {
      const item = document.createElement("li");
      item.textContent = event.data;
      list.prepend(item);
      while (list.children.length > 200) list.lastChild.remove();
    };
    socket.onclose = () => {
      status.textContent = "reconnecting…";
      status.className = "status";
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
