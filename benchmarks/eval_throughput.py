"""Eval throughput on CPU: a checkpoint evaluated by transformers (`--backend hf`, the path before
llama.cpp) and by llama.cpp on its GGUF conversion (`--backend gguf`, the default on CPU), side by side.

The same checkpoint (the embedded SmolLM2-135M-Instruct exported for transformers: the model the
demo trains, in the same format as its SFT and RL outputs) answers the same questions (the bundled
sample bank, cycled with rotated options so every prompt differs) through the full eval runner,
greedy, no request cache. Each engine runs as `medo1 eval` runs it: transformers batching every
question at once (batch `--batch`, dtype as it picks for this CPU, or `--hf-dtypes`), llama.cpp with
its default replicas. Prints items/s and tokens/s of each, the speed-up over the first hf run, and
how many answers agree with it (identical text, and the same extracted letter): run with
`--hf-dtypes float32,auto` to compare every engine with the checkpoint's exact fp32 weights. The
one-off conversion is timed apart (a re-run re-uses it). The machine's load average before and after is printed: on a shared machine
the figures are only comparable with each other.

    python benchmarks/eval_throughput.py [--items 8] [--max-tokens 256] [--batch 16] [--types f16,q8_0,f32]
                                         [--hf-dtypes auto,float32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from medo1.data import load_sample
from medo1.embedded import embedded_hf_checkpoint
from medo1.evaluate import EvalConfig, evaluate
from medo1.gguf_export import cached_gguf
from medo1.llm import load_model
from medo1.llm.hf import HFChatModel, resolve_dtype

TARGET = 3.0  # "several times faster"


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


async def timed_eval(spec: str, questions: Path, out: Path, batch: int, max_tokens: int,
                     hf_dtype: str | None) -> tuple[float, dict]:
    if spec.startswith("hf:"):
        model = HFChatModel(spec[3:], max_batch_size=batch, dtype=hf_dtype, name=spec)
    else:
        model = load_model(spec, cache=False)
    # load the weights (every llama.cpp replica) before the clock starts
    await asyncio.gather(*(model.chat([{"role": "user", "content": "Warm up."}], max_tokens=2, tag="bench.warmup")
                           for _ in range(4)))
    config = EvalConfig(benches=(str(questions),), max_tokens=max_tokens, progress=False)
    start = time.perf_counter()
    results = await evaluate(model, out, config)
    seconds = time.perf_counter() - start
    await model.aclose()
    return seconds, results


def rows(out: Path) -> dict[str, dict]:
    lines = (out / "questions.items.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=256, help="the quick demo's eval budget")
    parser.add_argument("--batch", type=int, default=16, help="hf batch size (the demo recipe's concurrency)")
    parser.add_argument("--types", default="f16,q8_0", help="GGUF types to run (comma-separated)")
    parser.add_argument("--hf-dtypes", default="auto", help="dtypes of hf runs, the first one the reference the "
                        "others are compared with: auto (what `medo1 eval --backend hf` picks for this CPU), "
                        "float32 (the checkpoint's exact weights), bfloat16")
    args = parser.parse_args()
    types = [t.strip() for t in args.types.split(",") if t.strip()]

    load_before = os.getloadavg()
    checkpoint = embedded_hf_checkpoint()
    engines = {f"hf ({resolve_dtype(d.strip(), 'cpu')}, batch {args.batch})": (f"hf:{checkpoint}", d.strip())
               for d in args.hf_dtypes.split(",") if d.strip()}
    converted = {}
    for t in types:
        start = time.perf_counter()
        path = cached_gguf(checkpoint, t)
        converted[t] = (time.perf_counter() - start, path)
        engines[f"gguf {t} (llama.cpp)"] = (f"gguf:{path}", None)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="medo1-eval-bench-") as tmp:
        tmp = Path(tmp)
        questions = write_questions(tmp / "questions.jsonl", args.items)
        for i, (label, (spec, dtype)) in enumerate(engines.items()):
            print(f"{label}: {args.items} questions, max {args.max_tokens} new tokens", file=sys.stderr)
            seconds, results = asyncio.run(timed_eval(spec, questions, tmp / str(i), args.batch, args.max_tokens,
                                                      dtype))
            runs[label] = (seconds, results["benches"]["questions"], rows(tmp / str(i)))
            print(f"  {label}: {args.items / seconds:.3f} items/s ({seconds:.1f} s)", file=sys.stderr)
    load_after = os.getloadavg()

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\neval throughput on CPU ({cpus} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} "
          f"after), {checkpoint.name}, {args.items} questions, max {args.max_tokens} tokens, greedy")
    for t, (seconds, path) in converted.items():
        size = path.stat().st_size / 2**20
        print(f"  conversion to {t}: {seconds:.1f} s ({size:.0f} MiB; 0 s when cached) -> {path}")
    reference = next(iter(runs))  # the first hf run: speeds and answers are compared with it
    hf_seconds, _, hf_rows = runs[reference]
    print(f"  agreement and speed-up relative to: {reference}")
    print(f"  {'engine':<28} {'items/s':>8} {'tokens/s':>9} {'seconds':>8} {'mean tok':>8} {'acc':>6} "
          f"{'speedup':>7} {'same text':>10} {'same letter':>11}")
    for label, (seconds, bench, answers) in runs.items():
        tokens = sum(r["completion_tokens"] for r in answers.values())
        text = sum(answers[k]["output"] == hf_rows[k]["output"] for k in answers)
        letter = sum(answers[k]["extracted"] == hf_rows[k]["extracted"] for k in answers)
        print(f"  {label:<28} {args.items / seconds:8.2f} {tokens / seconds:9.1f} {seconds:8.1f} "
              f"{bench['mean_tokens']:8.0f} {100 * bench['accuracy']:5.0f}% {hf_seconds / seconds:6.1f}x "
              f"{text:>5}/{len(answers):<4} {letter:>6}/{len(answers):<4}")
    best = max(hf_seconds / s for label, (s, _, _) in runs.items() if label.startswith("gguf"))
    print(f"  fastest gguf / {reference}: {best:.1f}x  (target >= {TARGET:.0f}x: {'met' if best >= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
