"""Eval throughput: the `hf` backend batching concurrent questions vs asking one at a time.

64 questions (the bundled sample bank, cycled with rotated options so every prompt is
different) go through the full eval runner twice on the embedded checkpoint exported
for transformers: once with batches of up to 64 (every question is sent at once and the
backend batches them), once with batches of 1. Greedy decoding, no request cache. Prints
items/s of both and the ratio (target >= 4x), and how many answers agree between the two.

    python benchmarks/eval_throughput.py [--items 64] [--max-tokens 64] [--batch 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from medo1.data import load_sample
from medo1.embedded import embedded_hf_checkpoint
from medo1.evaluate import EvalConfig, evaluate
from medo1.llm import load_model

TARGET = 4.0


def write_questions(path: Path, n: int) -> Path:
    """`n` distinct questions in our MCQ format: the sample bank, options rotated on each pass."""
    bank = load_sample()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            q = bank[i % len(bank)]
            letters, texts = list(q.options), list(q.options.values())
            shift = (i // len(bank)) % len(texts)
            rotated = texts[shift:] + texts[:shift]
            answer = letters[rotated.index(q.options[q.answer])]
            f.write(json.dumps({"question": q.question, "options": dict(zip(letters, rotated)), "answer": answer}) + "\n")
    return path


async def timed_eval(checkpoint: Path, questions: Path, out: Path, batch: int, max_tokens: int) -> tuple[float, dict]:
    model = load_model(f"hf:{checkpoint}", concurrency=batch, cache=False)
    await model.chat([{"role": "user", "content": "Warm up."}], max_tokens=4, tag="bench.warmup")  # load weights
    config = EvalConfig(benches=(str(questions),), max_tokens=max_tokens, progress=True)
    start = time.perf_counter()
    results = await evaluate(model, out, config)
    seconds = time.perf_counter() - start
    await model.aclose()
    return seconds, results


def outputs(out: Path, bench: str) -> dict[str, str]:
    rows = (json.loads(line) for line in (out / f"{bench}.items.jsonl").read_text().splitlines())
    return {r["id"]: r["output"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64, help="batch size of the batched run")
    args = parser.parse_args()

    checkpoint = embedded_hf_checkpoint()
    with tempfile.TemporaryDirectory(prefix="medo1-eval-bench-") as tmp:
        tmp = Path(tmp)
        questions = write_questions(tmp / "bench64.jsonl", args.items)
        runs = {}
        for label, batch in (("batched", args.batch), ("one at a time", 1)):
            print(f"{label}: {args.items} questions, batch size {batch}, max {args.max_tokens} new tokens",
                  file=sys.stderr)
            seconds, results = asyncio.run(timed_eval(checkpoint, questions, tmp / label, batch, args.max_tokens))
            runs[label] = (seconds, results["benches"]["bench64"])
        same = outputs(tmp / "batched", "bench64")
        alone = outputs(tmp / "one at a time", "bench64")
        agree = sum(same[k] == alone.get(k) for k in same)

    print(f"\neval throughput, hf backend, {checkpoint.name}, {args.items} questions, max {args.max_tokens} tokens")
    for label, (seconds, bench) in runs.items():
        print(f"  {label:<14} {args.items / seconds:7.2f} items/s  ({seconds:6.1f} s, "
              f"mean {bench['mean_tokens']:.0f} tokens, accuracy {100 * bench['accuracy']:.1f}%)")
    ratio = runs["one at a time"][0] / runs["batched"][0]
    print(f"  batched / one at a time: {ratio:.1f}x  (target >= {TARGET:.0f}x: {'met' if ratio >= TARGET else 'NOT met'})")
    print(f"  identical outputs: {agree}/{args.items}")


if __name__ == "__main__":
    main()
