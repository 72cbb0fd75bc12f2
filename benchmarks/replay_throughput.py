"""How many messages per second the replay server pushes to one msgpack websocket client.

Starts the server (``--speed max``: as fast as the client reads) on a free port, subscribes one
client to trades and quotes of every stock symbol (real + synthetic, see --universe-size), counts
the messages it decodes for a fixed time, and prints the median over several runs.

    python benchmarks/replay_throughput.py [--runs 5] [--seconds 4] [--universe-size 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import msgpack
from websockets.asyncio.client import connect

from streamlines.child import replay_server_process


async def one_run(port: int, seconds: float) -> float:
    """Messages per second received during ``seconds`` of steady streaming."""
    async with connect(
        f"ws://127.0.0.1:{port}/v2/iex",
        additional_headers={"Content-Type": "application/msgpack"},
        max_size=None,
    ) as ws:
        await ws.recv()
        await ws.send(msgpack.packb({"action": "auth", "key": uuid.uuid4().hex, "secret": "s"}))
        await ws.recv()
        await ws.send(msgpack.packb({"action": "subscribe", "trades": ["*"], "quotes": ["*"]}))
        await ws.recv()  # the subscription confirmation
        await ws.recv()  # warm-up: the first frame includes the first trade generation
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            count += len(msgpack.unpackb(await ws.recv()))
        return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--universe-size", type=int, default=100)
    args = parser.parse_args()

    rates = []
    with replay_server_process(
        "--speed", "max", "--universe-size", str(args.universe_size)
    ) as port:
        for run in range(1, args.runs + 1):
            rate = asyncio.run(one_run(port, args.seconds))
            rates.append(rate)
            print(f"run {run}: {rate:,.0f} messages/s")
    print(
        f"replay throughput (msgpack, one client, trades+quotes of {args.universe_size} "
        f"stocks): median {statistics.median(rates):,.0f} messages/s over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
