"""SFT training throughput: `medo1 sft` settings vs TRL SFTTrainer defaults, in one run.

    python benchmarks/sft_throughput.py                   # embedded model (SmolLM2-135M), 48 examples
    python benchmarks/sft_throughput.py --examples 32 --model hf:DIR

Both sides train the same model on the same 48 examples (question + complex CoT + response, of
varied length) for one epoch with the same effective batch of 8 examples:
  - ours:  `medo1.train.sft.train_sft` with its defaults (length-grouped micro batches of 4 on
           sdpa, padding-free with flash attention; no activation recomputation; bf16 autocast
           where the hardware runs bf16 natively and measured not slower than fp32: medo1.precision);
  - TRL:   SFTTrainer with its defaults (padded batches of 8, gradient checkpointing, bf16,
           max_length 1024) on the same examples as a conversational prompt/completion dataset.
           On a CPU without fast bf16 (AVX2 only: bf16 is emulated, hundreds of times slower than
           fp32) TRL's default bf16 would not finish in hours: both sides then run in fp32, and the
           output says so.
Tokens are the real (non-padding) tokens each trainer reports; time is the trainer's train_runtime.
Prints tokens/s of each, the ratio (target >= 2x), and our achieved FLOP/s as a fraction of a
matmul in the chosen precision measured on this machine. About 5 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import torch

SENTENCES = [
    "The patient is a middle-aged man with crushing chest pain that spreads to the left arm.",
    "Hmm, the pain started at rest, which makes stable angina less likely.",
    "Wait, the ECG shows ST elevation in the inferior leads, so this points to the right coronary artery.",
    "Troponin is raised, which confirms injury to the heart muscle.",
    "Oh, the blood pressure is low, so nitrates could make things worse here.",
    "Let me check the other options: aortic dissection would give a tearing pain to the back.",
    "Pulmonary embolism usually brings sudden breathlessness and a fast heart rate.",
    "Pericarditis pain gets better when sitting forward, which is not described.",
    "So the most likely diagnosis is an acute inferior myocardial infarction.",
    "The first step is aspirin, then urgent reperfusion with primary angioplasty.",
]


def make_examples(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        cot = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 24)))
        rows.append({
            "Question": f"A {35 + i % 40}-year-old patient presents with chest pain and sweating. "
                        "What is the most likely diagnosis and the first treatment?",
            "Complex_CoT": cot,
            "Response": "Acute inferior myocardial infarction; give aspirin and arrange primary angioplasty.",
        })
    return rows


def matmul_flops(dtype: torch.dtype, size: int = 1024, repeats: int = 10) -> float:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def run_ours(model: str, data: Path, out: Path, batch: int) -> tuple[float, float, bool]:
    from medo1.train.common import read_metrics
    from medo1.train.sft import SFTSettings, train_sft

    train_sft(SFTSettings(data=str(data), model=model, out=str(out), epochs=1, batch_size=batch,
                          save_steps=10**6, logging_steps=1))
    rows = read_metrics(out)
    tokens = max(r["num_tokens"] for r in rows if "num_tokens" in r)
    seconds = next(r["train_runtime"] for r in rows if "train_runtime" in r)
    summary = json.loads((out / "medo1_sft.json").read_text())
    return tokens, seconds, summary["padding_free"]


def run_trl_defaults(model_path: str, examples: list[dict], out: Path, batch: int, bf16: bool) -> tuple[float, float]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from medo1.thinking import format_target

    dataset = Dataset.from_list([
        {"prompt": [{"role": "user", "content": e["Question"]}],
         "completion": [{"role": "assistant", "content": format_target(e["Complex_CoT"], e["Response"])}]}
        for e in examples
    ])
    # TRL's default precision is bf16; `bf16=False` only where this machine has no fast bf16.
    precision = {} if bf16 else {"bf16": False}
    config = SFTConfig(output_dir=str(out), num_train_epochs=1, per_device_train_batch_size=batch,
                       report_to="none", save_strategy="no", use_cpu=not torch.cuda.is_available(), **precision)
    trainer = SFTTrainer(model=model_path, args=config, train_dataset=dataset)
    result = trainer.train()
    tokens = max(h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h)
    return tokens, result.metrics["train_runtime"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8, help="effective batch, both sides")
    args = parser.parse_args()

    from transformers import AutoConfig
    from trl.trainer.utils import compute_flops_per_token

    from medo1.precision import say_precision, training_device
    from medo1.train.common import resolve_model_path

    choice = say_precision(training_device())
    model_path = resolve_model_path(args.model)
    examples = make_examples(args.examples)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "sft.jsonl"
        data.write_text("".join(json.dumps(e) + "\n" for e in examples))
        ours_tokens, ours_s, padding_free = run_ours(str(model_path), data, tmp / "ours", args.batch)
        trl_tokens, trl_s = run_trl_defaults(str(model_path), examples, tmp / "trl", args.batch, choice.bf16)

    ours, trl = ours_tokens / ours_s, trl_tokens / trl_s
    config = AutoConfig.from_pretrained(model_path)
    mean_len = ours_tokens / args.examples
    achieved = ours * compute_flops_per_token(config, int(mean_len))
    name = "bf16" if choice.bf16 else "fp32"
    peak = matmul_flops(torch.bfloat16 if choice.bf16 else torch.float32)
    print(f"model {args.model}: {args.examples} examples, {ours_tokens:.0f} tokens (mean {mean_len:.0f}/example), "
          f"batch {args.batch}, threads {torch.get_num_threads()}")
    print(f"  {choice.line()}")
    print(f"  medo1 sft ({'padding-free' if padding_free else 'length-grouped'}, no recompute, "
          f"{name}): {ours:8.1f} tokens/s  ({ours_s:.1f} s)")
    trl_name = "TRL SFTTrainer defaults" if choice.bf16 else "TRL SFTTrainer defaults, but fp32 (no fast bf16 here)"
    print(f"  {trl_name + ':':<45}{trl:8.1f} tokens/s  ({trl_s:.1f} s)")
    print(f"  ratio: {ours / trl:.2f}x (target >= 2x)")
    print(f"  our training FLOP/s: {achieved / 1e9:.1f} GFLOP/s = {achieved / peak:.1%} of a measured "
          f"{name} matmul ({peak / 1e9:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
