"""Syndicast benchmark peer: uWebSockets (through socketify) WebSocket broadcast.

Broadcast contract: ws://127.0.0.1:PORT/broadcast; every text message any client sends is
delivered to every connected client (the sender too), unchanged, as a text message. No
permessage-deflate (compression DISABLED, so the offer is declined). GET /healthz answers 200.

Uses uWS pub/sub, its idiomatic fan-out: every socket subscribes to one topic on open, and each
message is published to that topic with App.publish, which (unlike WebSocket.publish) includes
the sender.

Usage: server.py PORT | --port PORT. Prints "listening on PORT" when ready; SIGTERM and SIGINT
end the process (default signal actions: the libuv loop never returns to Python to raise
KeyboardInterrupt, so SIGINT is reset to its default).
"""

import signal
import sys

from socketify import App, AppListenOptions, CompressOptions, OpCode

TOPIC = "broadcast"
MAXIMUM_MESSAGE_SIZE = 1 << 20
# uWS skips a subscriber whose send buffer exceeds max_backpressure when publishing. The Swift
# peers queue without bound, so this is set high enough that no message is dropped in practice.
MAXIMUM_BACKPRESSURE = 1 << 30


def parse_port(arguments):
    """Returns the port from `PORT`, `--port PORT` or `--port=PORT`, or None."""
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--port" and index + 1 < len(arguments):
            text = arguments[index + 1]
        elif argument.startswith("--port="):
            text = argument[len("--port="):]
        elif not argument.startswith("-"):
            text = argument
        else:
            index += 1
            continue
        return int(text) if text.isdigit() and 1 <= int(text) <= 65535 else None
    return None


def main():
    port = parse_port(sys.argv[1:])
    if port is None:
        print("usage: server.py PORT | --port PORT", file=sys.stderr)
        return 64
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    app = App()

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
