"""/broadcast, the benchmark contract shared with the peer servers (loadtest/peers/README.md).

Every text message any client sends reaches every connected client, the sender included, unchanged
and in order; binary messages are not broadcast (their sender gets an `unsupported_data` error message);
messages up to 1 MiB; a permessage-deflate offer is
declined; without --broadcast the path is 404. Driven by the Python `websockets` client.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from conftest import RunningServer, StartServer

MIB = 1024 * 1024
TIMEOUT = 10.0


def run(coroutine, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def client(server: RunningServer, compression: str | None = None):
    return connect(
        f"{server.ws_url}/broadcast", compression=compression, open_timeout=TIMEOUT, close_timeout=TIMEOUT,
        max_size=2 * MIB, ping_interval=None,
    )


def test_every_text_message_reaches_every_client_in_order(start_server: StartServer) -> None:
    server = start_server(["--broadcast"])

    async def body() -> None:
        async with client(server) as a, client(server, compression="deflate") as b, client(server) as c:
            assert (b.response.headers.get("Sec-WebSocket-Extensions") or "") == "", "deflate must be declined"
            # Joins are registered when the handshake completes; a round trip proves all three are in.
            await a.send("ready")
            for peer in (a, b, c):
                assert await asyncio.wait_for(peer.recv(), TIMEOUT) == "ready"
            sent = [f"message {number} from a" for number in range(50)]
            sent += ["from b", "x" * MIB]  # a full 1 MiB message too
            for text in sent[:50]:
                await a.send(text)
            await b.send(b"binary is ignored")
            await b.send(sent[50])
            await c.send(sent[51])
            for peer in (a, b, c):
                expected = len(sent) + (1 if peer is b else 0)
                received = [await asyncio.wait_for(peer.recv(), TIMEOUT) for _ in range(expected)]
                if peer is b:
                    errors = [message for message in received if "unsupported_data" in message]
                    assert len(errors) == 1 and '"type":"error"' in errors[0], received[50:]
                    received.remove(errors[0])
                # Each sender's messages arrive in its order; senders interleave.
                from_a = [message for message in received if message.startswith("message ")]
                others = [message for message in received if not message.startswith("message ")]
                assert from_a == sent[:50]
                assert sorted(others, key=len) == sent[50:]
            # Nothing else follows: the binary message went to nobody.
            for peer in (a, b, c):
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(peer.recv(), 0.3)

    run(body())


def test_a_message_over_one_mebibyte_closes_its_sender_with_1009(start_server: StartServer) -> None:
    server = start_server(["--broadcast"])

    async def body() -> None:
        async with client(server) as sender, client(server) as other:
            await sender.send("x" * (MIB + 1))
            await asyncio.wait_for(sender.wait_closed(), TIMEOUT)
            assert sender.close_code == 1009
            # The other client is unaffected and got nothing.
            await other.send("still here")
            assert await asyncio.wait_for(other.recv(), TIMEOUT) == "still here"

    run(body())


def test_broadcast_is_off_by_default(start_server: StartServer) -> None:
    server = start_server()

    async def body() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with client(server):
                pass
        assert refused.value.response.status_code == 404

    run(body())
