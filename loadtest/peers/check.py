"""Quick check of a broadcast peer: contract test plus idle memory per connection.

Usage: check.py --port PORT [--pid PID] [--connections N]

1. Two clients connect to ws://127.0.0.1:PORT/broadcast, offering permessage-deflate; the peer must
   accept neither extension. Client A sends one text message; A and B must both receive it,
   unchanged, as text.
2. With --pid: RSS (VmRSS in /proc/PID/status) before and after N idle connections (default 2000);
   prints the growth per connection.
Loopback only. Exits 1 on a contract failure.
"""

import argparse
import asyncio
import sys
import time

import websockets


def resident_kibibytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def contract(url):
    async with websockets.connect(url, compression="deflate") as first, websockets.connect(
        url, compression="deflate"
    ) as second:
        for name, client in (("A", first), ("B", second)):
            extensions = client.response.headers.get("Sec-WebSocket-Extensions")
            if extensions:
                print(f"FAIL: client {name} negotiated extensions: {extensions}")
                return False
        await asyncio.sleep(0.2)  # both registered before the send
        payload = "héllo {\"n\":1} " + str(time.time())
        await first.send(payload)
        results = []
        for name, client in (("A", first), ("B", second)):
            received = await asyncio.wait_for(client.recv(), 5)
            ok = isinstance(received, str) and received == payload
            results.append(ok)
            print(f"client {name} received {'OK' if ok else 'WRONG: ' + repr(received)}")
        return all(results)


async def idle_memory(url, pid, count):
    await asyncio.sleep(0.5)
    before = resident_kibibytes(pid)
    gate = asyncio.Semaphore(64)
    clients = []

    async def open_one():
        async with gate:
            clients.append(await websockets.connect(url, compression=None, ping_interval=None))

    started = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(count)))
    elapsed = time.monotonic() - started
    await asyncio.sleep(2)
    after = resident_kibibytes(pid)
    # Every connection still works: one broadcast reaches a sample of them.
    await clients[0].send("ping-all")
    sample = clients[:: max(1, count // 50)]
    received = await asyncio.gather(*(asyncio.wait_for(c.recv(), 10) for c in sample))
    delivered = sum(1 for r in received if r == "ping-all")
    print(
        f"idle: {count} connections opened in {elapsed:.1f}s; RSS {before} KiB -> {after} KiB; "
        f"{(after - before) * 1024 / count:.0f} bytes/connection; "
        f"broadcast reached {delivered}/{len(sample)} sampled"
    )
    await asyncio.gather(*(c.close() for c in clients))
    await asyncio.sleep(2)
    print(f"idle: RSS after closing all: {resident_kibibytes(pid)} KiB")
    return delivered == len(sample)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--connections", type=int, default=2000)
    arguments = parser.parse_args()
    url = f"ws://127.0.0.1:{arguments.port}/broadcast"
    ok = await contract(url)
    if arguments.pid:
        ok = await idle_memory(url, arguments.pid, arguments.connections) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
