"""Client overhead: how close OpenAIChatModel gets to the ideal wall time against a slow server.

2,000 requests at concurrency 64 to a local OpenAI-compatible server (in its own process,
so it does not share our GIL) that answers every request after a fixed 100 ms, cache off.
With zero overhead the run takes 2000 x 0.1 / 64 = 3.125 s; we print actual / ideal
(target <= 1.15). For context, the same load is also sent by a bare aiohttp client in the
same run (the floor this machine allows right now: CPU shared with other work shows there).

    python benchmarks/client_overhead.py [--requests 2000] [--concurrency 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.openai_server

import aiohttp
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from medo1.llm import load_model
from tests.openai_server import OpenAIServerProcess, fixed

TARGET = 1.15


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:.0f} req/s")


async def timed(label: str, requests: int, call) -> tuple[float, float]:
    """Runs `call(i)` for every i at once (the caller bounds concurrency); returns (wall, CPU) seconds."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        bar = progress.add_task(label, total=requests)

        async def one(i: int) -> None:
            await call(i)
            progress.advance(bar)

        cpu0, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        return time.perf_counter() - start, time.process_time() - cpu0


def messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}]


async def run_client(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    model = load_model(f"openai:bench-model@{url}", concurrency=concurrency, cache=False)
    await asyncio.gather(*(model.chat(messages(-1), tag="warmup") for _ in range(concurrency)))
    result = await timed("OpenAIChatModel", requests,
                         lambda i: model.chat(messages(i), max_tokens=16, tag="bench"))
    await model.aclose()
    usage = model.meter.by_tag["bench"]
    assert usage.calls == requests and usage.errors == 0, model.meter.as_dict()
    return result


async def run_floor(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    """The same requests from a bare aiohttp session: no SDK, no retries, no accounting."""
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def call(i: int) -> None:
            body = {"model": "bench-model", "messages": messages(i), "max_tokens": 16, "temperature": 0.0}
            async with slots, session.post(f"{url}/chat/completions", json=body) as response:
                (await response.json())["choices"][0]["message"]["content"]

        await asyncio.gather(*(call(-1) for _ in range(concurrency)))
        return await timed("bare aiohttp", requests, call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits before each reply")
    args = parser.parse_args()
    ideal = args.requests * args.latency / args.concurrency

    print(f"{args.requests} requests, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms, "
          f"ideal {ideal:.3f} s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with OpenAIServerProcess(fixed("ok", latency=args.latency)) as server:
        rows = []
        for label, run in [("OpenAIChatModel", run_client), ("bare aiohttp (floor)", run_floor)]:
            before = server.stats()
            wall, cpu = asyncio.run(run(server.url, args.requests, args.concurrency))
            after = server.stats()
            server_cpu = after["cpu_seconds"] - before["cpu_seconds"]
            rows.append((label, wall, cpu, server_cpu, after["max_in_flight"]))
    for label, wall, cpu, server_cpu, in_flight in rows:
        print(f"{label:21s} actual {wall:6.3f} s  ratio actual/ideal {wall / ideal:5.3f}  "
              f"{args.requests / wall:4.0f} req/s  CPU/request: client {cpu * 1e3 / args.requests:.3f} ms, "
              f"server {server_cpu * 1e3 / args.requests:.3f} ms  (server max in flight {in_flight})")
    ratio = rows[0][1] / ideal
    print(f"OpenAIChatModel: actual {rows[0][1]:.3f} s / ideal {ideal:.3f} s = {ratio:.3f} "
          f"({'meets' if ratio <= TARGET else 'misses'} the target <= {TARGET}); "
          f"vs the bare floor: {rows[0][1] / rows[1][1]:.3f}x; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
