"""Verdicts per second: the classifier verifier vs the `match` verifier vs an LLM judge.

The labelled pairs of medo1/data/verifier_labels.jsonl (repeated to --pairs) go through each
verifier the way `medo1 verifier-eval` runs them (--concurrency calls in flight):

- judge:      a local OpenAI-compatible server (its own process) that answers after --latency
              seconds (default 200 ms, a fast hosted judge), request cache off;
- classifier: a sequence classifier on the embedded SmolLM2-135M (random head: the speed of a
              135M verifier, not its accuracy), or --classifier DIR; dynamically batched, and the
              same model with batches of one, to show what batching buys;
- match:      no model.

Each measurement is repeated --repeats times, interleaved, and the best rate kept (a shared machine's
load comes and goes). Prints verdicts/s of each and the ratios. The judge's ceiling is concurrency / latency
(160 verdicts/s at 32 and 200 ms): a distilled classifier is worth having when it beats that
on the hardware RL runs on.

    python benchmarks/verifier_throughput.py [--pairs 640] [--concurrency 32] [--latency 0.2]
                                             [--classifier DIR] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.openai_server import OpenAIServerProcess, fixed  # noqa: E402

from medo1.data import VERIFIER_LABELS as LABELS  # noqa: E402
from medo1.jsonl import read_jsonl  # noqa: E402
from medo1.llm.openai import OpenAIChatModel  # noqa: E402
from medo1.verify import ClassifierVerifier, JudgeVerifier, LabeledVerdict, MatchVerifier, evaluate_verifier  # noqa: E402



def classifier_checkpoint(tmp: Path) -> Path:
    """The embedded 135M model with a two-label classification head (random), saved as a checkpoint."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from medo1.embedded import embedded_hf_checkpoint

    base = embedded_hf_checkpoint()
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model.config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    model.save_pretrained(tmp / "classifier")
    tokenizer.save_pretrained(tmp / "classifier")
    return tmp / "classifier"


async def measure(verifier, items, concurrency: int) -> float:
    report = await evaluate_verifier(verifier, items, concurrency=concurrency)
    if report.errors:
        raise SystemExit(f"{verifier.name}: {report.errors} verdicts failed")
    return report.judged / report.seconds


async def judge_rate(url: str, items, concurrency: int) -> float:
    judge = JudgeVerifier(OpenAIChatModel("judge", base_url=url, concurrency=concurrency))
    try:
        return await measure(judge, items, concurrency)
    finally:
        await judge.model.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=640)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--classifier", type=Path, default=None, help="a classifier checkpoint (default: 135M)")
    parser.add_argument("--device", default=None, help="classifier device (default: cuda if available)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the best rate is kept")
    args = parser.parse_args()
    labelled = read_jsonl(LABELS, LabeledVerdict)
    items = [labelled[i % len(labelled)] for i in range(args.pairs)]

    with tempfile.TemporaryDirectory() as tmp:
        path = args.classifier or classifier_checkpoint(Path(tmp))
        batched = ClassifierVerifier(path, batch_size=args.concurrency, device=args.device)
        single = ClassifierVerifier(path, batch_size=1, device=args.device)
        asyncio.run(measure(batched, items[:64], args.concurrency))  # warm-up (first-call allocations)
        rates: dict[str, float] = {}
        sizes: list[int] = []

        def keep(name: str, rate: float) -> None:
            rates[name] = max(rates.get(name, 0.0), rate)

        with OpenAIServerProcess(fixed("True", latency=args.latency)) as server:
            for _ in range(args.repeats):
                keep("match", asyncio.run(measure(MatchVerifier(), items, args.concurrency)))
                batched.batches.clear()
                keep("classifier", asyncio.run(measure(batched, items, args.concurrency)))
                sizes += batched.batches
                keep("classifier, batches of 1", asyncio.run(measure(single, items[: max(64, args.pairs // 4)],
                                                                     args.concurrency)))
                keep("judge", asyncio.run(judge_rate(server.url, items, args.concurrency)))
    print(f"{args.pairs} verdicts per verifier, {args.concurrency} in flight; judge latency {1000 * args.latency:.0f} ms "
          f"(ceiling {args.concurrency / args.latency:.0f}/s); classifier {path} on {batched.device}, "
          f"mean batch {sum(sizes) / max(len(sizes), 1):.1f}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    for name, rate in rates.items():
        print(f"  {name:<26} {rate:10.1f} verdicts/s")
    print(f"classifier / judge            = {rates['classifier'] / rates['judge']:.2f}")
    print(f"match / judge                 = {rates['match'] / rates['judge']:.1f}")
    print(f"match / classifier            = {rates['match'] / rates['classifier']:.1f}")
    print(f"classifier batched / batch 1  = {rates['classifier'] / rates['classifier, batches of 1']:.2f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
