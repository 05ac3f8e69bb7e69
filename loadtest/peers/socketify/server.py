"""Syndicast benchmark peer: uWebSockets (through socketify) WebSocket broadcast.

Broadcast contract: ws://127.0.0.1:PORT/broadcast; every text message any client sends is
delivered to every connected client (the sender too), unchanged, as a text message. No
permessage-deflate (compression DISABLED, so the offer is declined). GET /healthz answers 200.
With --tls-cert PEM --tls-key PEM the same contract is served over TLS (wss://, https://) by
uWS's SSL app (socketify `App(AppOptions(...))`, uSockets on OpenSSL, its default settings).

Uses uWS pub/sub, its idiomatic fan-out: every socket subscribes to one topic on open, and each
message is published to that topic with App.publish, which (unlike WebSocket.publish) includes
the sender.

Usage: server.py PORT | --port PORT [--tls-cert PEM --tls-key PEM]. Prints "listening on PORT"
when ready; SIGTERM and SIGINT end the process (default signal actions: the libuv loop never
returns to Python to raise KeyboardInterrupt, so SIGINT is reset to its default).
"""

import signal
import sys

from socketify import App, AppListenOptions, AppOptions, CompressOptions, OpCode

TOPIC = "broadcast"
MAXIMUM_MESSAGE_SIZE = 1 << 20
# uWS skips a subscriber whose send buffer exceeds max_backpressure when publishing. The Swift
# peers queue without bound, so this is set high enough that no message is dropped in practice.
MAXIMUM_BACKPRESSURE = 1 << 30


def parse_arguments(arguments):
    """Returns (port, certificate, key) from `PORT | --port PORT` and `--tls-cert PEM --tls-key PEM`
    (each also as `--name=value`), or None when an argument is missing, unknown or malformed."""
    values = {"port": None, "tls-cert": None, "tls-key": None}
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        name, separator, text = argument[2:].partition("=") if argument.startswith("--") else ("port", "=", argument)
        if name not in values:
            return None
        if not separator:
            if index + 1 >= len(arguments):
                return None
            index += 1
            text = arguments[index]
        values[name] = text
        index += 1
    port_text = values["port"]
    if port_text is None or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        return None
    if (values["tls-cert"] is None) != (values["tls-key"] is None):
        return None
    return int(port_text), values["tls-cert"], values["tls-key"]


def main():
    parsed = parse_arguments(sys.argv[1:])
    if parsed is None:
        print("usage: server.py PORT | --port PORT [--tls-cert PEM --tls-key PEM]", file=sys.stderr)
        return 64
    port, certificate, key = parsed
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    app = App(AppOptions(key_file_name=key, cert_file_name=certificate)) if certificate else App()

    def on_open(ws):
        ws.subscribe(TOPIC)

    def on_message(ws, message, opcode):
        # Binary messages are not part of the broadcast contract.
        if opcode == OpCode.TEXT:
            app.publish(TOPIC, message, OpCode.TEXT)

    app.ws(
        "/broadcast",
        {
            "compression": CompressOptions.DISABLED,
            "max_payload_length": MAXIMUM_MESSAGE_SIZE,
            "max_backpressure": MAXIMUM_BACKPRESSURE,
            # uWS's own defaults: close after 120 s of silence, pinging first so live clients stay.
            "idle_timeout": 120,
            "send_pings_automatically": True,
            "open": on_open,
            "message": on_message,
        },
    )
    app.get("/healthz", lambda response, request: response.end("ok"))

    def on_listen(config):
        print(f"listening on {config.port}", flush=True)

    app.listen(AppListenOptions(port=port, host="127.0.0.1"), on_listen)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
