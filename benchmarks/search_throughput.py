"""Search throughput against a local OpenAI-compatible server with fixed latency.

1,000 problems, each searched with Algorithm 1 (teacher + LLM judge, both on a local
server that answers after 100 ms), with 64 calls in flight. The teacher's conclusion is
right with probability 0.35 per call, so problems take from 2 to 24 calls. Prints

    wall time / ideal,  ideal = total calls made x latency / concurrency

(the time a perfectly packed pool would take). Target: <= 1.2. In the same run it also sends the
same number of independent requests through the bare client (no search, no dependencies between
calls): that floor shows what the client and this machine reach right now, so the search's own
cost (wall / floor) can be read even on a busy machine.

    python benchmarks/search_throughput.py [--problems 1000] [--concurrency 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medo1.llm.openai import OpenAIChatModel  # noqa: E402
from medo1.reasoning.search import SearchConfig, search  # noqa: E402
from medo1.records import Problem  # noqa: E402
from medo1.verify import JudgeVerifier  # noqa: E402
from tests.openai_server import OpenAIServerProcess, Reply  # noqa: E402


class ScriptedModels:
    """Teacher and judge in one picklable handler, routed by the X-Medo1-Tag header."""

    def __init__(self, latency: float, p_right: float = 0.35):
        self.latency, self.p_right = latency, p_right

    def __call__(self, body: dict, headers: dict) -> Reply:
        text = body["messages"][-1]["content"]
        if headers.get("x-medo1-tag") == "verify":
            said = re.search(r"<response>(.*?)</response>", text, re.DOTALL)
            verdict = "True" if said and "the right answer" in said.group(1) else "False"
            return Reply(text=verdict, latency=self.latency)
        roll = int(hashlib.sha256(f"{text}|{body.get('seed')}".encode()).hexdigest()[:8], 16) / 16**8
        conclusion = "It is the right answer." if roll < self.p_right else "It is a wrong answer."
        cot = {"CoT": [
            {"action": "Inner Thinking", "title": "Findings", "content": "Weigh the findings. " * 20},
            {"action": "Inner Thinking", "title": "Mechanism", "content": "Consider the mechanism. " * 20},
            {"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
            {"action": "Verification", "title": "Check", "content": "The conclusion fits the findings."},
        ]}
        return Reply(text=json.dumps(cot), latency=self.latency)


async def floor(args: argparse.Namespace, url: str, calls: int) -> float:
    """Wall time of `calls` independent teacher requests through the bare client, same concurrency."""
    model = OpenAIChatModel("teacher", base_url=url, concurrency=args.concurrency)
    start = time.perf_counter()
    await asyncio.gather(*(model.chat([{"role": "user", "content": f"Problem {i}: warm"}], tag="search.init",
                                      seed=i) for i in range(calls)))
    wall = time.perf_counter() - start
    await model.aclose()
    return wall


async def run(args: argparse.Namespace, url: str, out: Path) -> dict:
    teacher = OpenAIChatModel("teacher", base_url=url, concurrency=args.concurrency)
    judge = JudgeVerifier(OpenAIChatModel("judge", base_url=url, concurrency=args.concurrency))
    problems = [Problem(question=f"Problem {i}: what explains the findings?", answer="the right answer")
                for i in range(args.problems)]
    start = time.perf_counter()
    summary = await search(problems, out, SearchConfig(seed=args.seed), teacher=teacher, verifier=judge,
                           concurrency=args.concurrency, progress=args.progress)
    wall = time.perf_counter() - start
    await teacher.aclose()
    await judge.model.aclose()
    calls = sum(t.calls for m in (teacher, judge.model) for t in m.meter.by_tag.values())
    return {"wall": wall, "calls": calls, "summary": summary.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args()
    with OpenAIServerProcess(ScriptedModels(args.latency)) as server, tempfile.TemporaryDirectory() as tmp:
        cpu = time.process_time()
        result = asyncio.run(run(args, server.url, Path(tmp) / "traces.jsonl"))
        cpu = time.process_time() - cpu
        stats = server.stats()
        floor_cpu = time.process_time()
        floor_wall = asyncio.run(floor(args, server.url, stats["requests"]))
        floor_cpu = time.process_time() - floor_cpu
    calls = stats["requests"]
    ideal = calls * args.latency / args.concurrency
    s = result["summary"]
    print(f"problems {args.problems}: found {s['found']}, discarded {s['discarded']}, failed {s['failed']}")
    print(f"calls {calls} (client counted {result['calls']}), max in flight {stats['max_in_flight']}, "
          f"client CPU {1000 * cpu / calls:.2f} ms/call (bare client {1000 * floor_cpu / calls:.2f}), load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"search wall {result['wall']:.2f} s, ideal {ideal:.2f} s (calls x {args.latency} s / "
          f"{args.concurrency}), bare-client floor {floor_wall:.2f} s")
    print(f"floor / ideal = {floor_wall / ideal:.3f}  (the client alone, on this machine now)")
    print(f"wall / floor = {result['wall'] / floor_wall:.3f}  (what the search adds)")
    print(f"wall / ideal = {result['wall'] / ideal:.3f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
