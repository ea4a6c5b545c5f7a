"""Dynamic batching on the transformers backend: N concurrent chat calls vs the same N one by one.

    python benchmarks/hf_batching.py                       # embedded checkpoint, dtype auto
    python benchmarks/hf_batching.py --dtype float32 --dtype bfloat16

Same prompts, same max_tokens, greedy. EOS is not ignored: a row that ends early simply
contributes fewer tokens, and both sides count only the tokens each call returned
(completion_tokens), so rows that finish early make the batched side look slower, not faster.
Prints tokens/s for both and the ratio (target: >= 4x at 16 concurrent calls).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from medo1.embedded import embedded_hf_checkpoint
from medo1.llm.hf import HFChatModel
from medo1.precision import choose_bf16

QUESTIONS = [
    "Explain how aspirin prevents a second myocardial infarction.",
    "Describe the first-line treatment of community-acquired pneumonia in adults.",
    "Why does type 1 diabetes need insulin from the first day of diagnosis?",
    "List the classic signs of appendicitis and explain each one.",
    "How does heparin work, and how is its effect monitored?",
    "Describe the pathophysiology of asthma in a few paragraphs.",
    "What are the causes of iron-deficiency anaemia in an elderly patient?",
    "Explain the difference between a stroke and a transient ischaemic attack.",
    "How should a nurse recognise the early signs of sepsis?",
    "Describe how penicillin kills bacteria and why resistance appears.",
    "Explain the stages of chronic kidney disease and what changes at each.",
    "What does a raised troponin mean, and what else can raise it?",
    "Describe the management of an acute asthma attack in a child.",
    "Why do beta blockers help patients with heart failure?",
    "Explain how vaccines train the immune system, step by step.",
    "What are the risk factors for deep vein thrombosis after surgery?",
]


async def measure(model: HFChatModel, prompts: list[str], max_tokens: int) -> dict:
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    await model.chat(conversations[0], max_tokens=4)  # load + warm up outside the timings

    start = time.perf_counter()
    one_by_one = [await model.chat(c, max_tokens=max_tokens) for c in conversations]
    sequential_s = time.perf_counter() - start

    model.batch_sizes.clear()
    start = time.perf_counter()
    together = await asyncio.gather(*(model.chat(c, max_tokens=max_tokens) for c in conversations))
    concurrent_s = time.perf_counter() - start

    seq_tokens = sum(c.usage.completion_tokens for c in one_by_one)
    con_tokens = sum(c.usage.completion_tokens for c in together)
    return {
        "seq_tokens": seq_tokens, "seq_s": sequential_s, "seq_tps": seq_tokens / sequential_s,
        "con_tokens": con_tokens, "con_s": concurrent_s, "con_tps": con_tokens / concurrent_s,
        "batches": list(model.batch_sizes),
        "identical": sum(a.text == b.text for a, b in zip(one_by_one, together)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="checkpoint directory (default: the embedded model's export)")
    parser.add_argument("--n", type=int, default=16, help="number of calls (default 16)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--dtype", action="append", help="auto | float32 | bfloat16 (repeat to compare)")
    args = parser.parse_args()

    checkpoint = args.model or embedded_hf_checkpoint()
    prompts = (QUESTIONS * (args.n // len(QUESTIONS) + 1))[: args.n]
    print(f"checkpoint: {checkpoint}\n{args.n} calls, max_tokens={args.max_tokens}, greedy, EOS not ignored")
    for dtype in args.dtype or ["auto"]:
        model = HFChatModel(checkpoint, max_batch_size=args.n, dtype=dtype)
        r = asyncio.run(measure(model, prompts, args.max_tokens))
        print(f"\ndtype={model.dtype} device={model.device}")
        if dtype == "auto" and model.device in ("cpu", "cuda"):
            print(f"  {choose_bf16(model.device).line()}")
        print(f"  sequential : {r['seq_tokens']:5d} tokens in {r['seq_s']:6.1f} s = {r['seq_tps']:7.1f} tokens/s")
        print(f"  concurrent : {r['con_tokens']:5d} tokens in {r['con_s']:6.1f} s = {r['con_tps']:7.1f} tokens/s "
              f"(batches: {r['batches']})")
        print(f"  speed-up   : {r['con_tps'] / r['seq_tps']:.1f}x tokens/s   "
              f"(identical outputs: {r['identical']}/{args.n})")


if __name__ == "__main__":
    main()
