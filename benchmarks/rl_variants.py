"""Which RL algorithm: a few steps of PPO, GRPO, Dr. GRPO and DAPO side by side, one table.

    python benchmarks/rl_variants.py                        # the embedded model, 3 steps each (~10 min, 2 cores)
    python benchmarks/rl_variants.py --steps 5 --work runs/rl-variants --only grpo,dapo

A smoke comparison, not a quality claim: a 135M model, a handful of steps, a CPU. It shows that each variant runs
on medo1's problems and reward, what a step costs, and what each logs; which one learns better needs a real
policy and hundreds of steps (README, "Which RL algorithm").

What runs, every algorithm from the same SFT checkpoint, on the same problems, with the same reward:
  SFT      its own tiny SFT (not the demo's): the embedded SmolLM2-135M-Instruct on the 40 bundled training
           questions with their lettered options, each target a one-line rule-made thinking and "The answer is X."
           (the correct letter), batch 1 at 2e-4 for --sft-epochs: enough to learn the output format, not medicine.
           Written to <work>/sft and reused by later runs.
  problems the 20 bundled held-out questions with their lettered options (curate's `reformat: options`); the reward
           is the paper's rule (1.0 / 0.1 / 0.0) with the `option` verifier: no judge.
  each     8 responses per step at temperature 0.7, up to --max-new-tokens tokens, learning rate 1e-5:
    ppo      our PPO: 8 problems x 1 response, a value model, KL 0.03 in the reward, 1 PPO epoch
    grpo     TRL's GRPO: 2 problems x 4 responses, loss `grpo` (mean per response), advantages scaled by the
             group's spread, KL 0.03
    dr_grpo  loss `dr_grpo` (summed over tokens / max_new_tokens), no scaling by the spread, no KL
    dapo     loss `dapo` (mean over the batch's tokens), clip-higher 0.28, no KL, the soft overlong penalty over
             the last quarter of the length

Printed per algorithm and step: the mean reward, correct and format rate of the step's 8 responses, response
tokens per second (8 x mean length / seconds) and seconds per step (PPO: its phases; TRL: its `step_time`, which
includes generation); then the total seconds of each run, model loading included.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ALGOS = ("ppo", "grpo", "dr_grpo", "dapo")
RESPONSES = 8  # per step, every algorithm
LR = 1e-5
TEMPERATURE = 0.7


def write_data(work: Path) -> tuple[Path, Path]:
    """SFT examples from the training questions and RL problems from the held-out ones, both in options form."""
    from medo1.curate import CurateConfig, options_rewrite
    from medo1.data import load_sample
    from medo1.records import SFTExample

    sft, problems = work / "sft.jsonl", work / "problems.jsonl"
    rows = []
    for mcq in load_sample("train"):
        question, letter = options_rewrite(mcq, CurateConfig())
        thinking = (f"The question gives the key findings. Weighing each option against them, "
                    f"{mcq.answer_text} fits best.")
        rows.append(SFTExample(question=question, complex_cot=thinking, response=f"The answer is {letter}.",
                               answer=letter))
    sft.write_text("".join(r.model_dump_json() + "\n" for r in rows))
    lines = []
    for mcq in load_sample("eval"):
        question, letter = options_rewrite(mcq, CurateConfig())
        lines.append(json.dumps({"question": question, "answer": letter, "id": mcq.id}))
    problems.write_text("\n".join(lines) + "\n")
    return sft, problems


def tiny_sft(work: Path, data: Path, epochs: float) -> Path:
    from medo1.train.config import SFTSettings
    from medo1.train.sft import train_sft

    out = work / "sft"
    if (out / "medo1_sft.json").exists():
        print(f"sft: reusing {out}")
        return out
    started = time.perf_counter()
    train_sft(SFTSettings(data=str(data), model="embedded", out=str(out), epochs=epochs, learning_rate=2e-4,
                          batch_size=1, micro_batch_size=1, max_length=1024, warmup_ratio=0.1, save_steps=10**6))
    print(f"sft: {time.perf_counter() - started:.0f} s -> {out}")
    return out


def settings(algo: str, problems: Path, model: Path, out: Path, steps: int, max_new_tokens: int) -> tuple[str, dict]:
    """(the trainer's algo, its given settings) for one column of the table."""
    common = dict(problems=str(problems), model=str(model), out=str(out), verifier="option", learning_rate=LR,
                  temperature=TEMPERATURE, max_new_tokens=max_new_tokens, max_steps=steps, save_steps=10**6, seed=0)
    if algo == "ppo":
        return "ppo", {**common, "batch_size": RESPONSES, "micro_batch_size": 4, "rollout_batch_size": RESPONSES,
                       "ppo_epochs": 1, "kl_coef": 0.03}
    grpo = {**common, "batch_size": RESPONSES, "micro_batch_size": RESPONSES, "num_generations": 4}
    if algo == "grpo":
        return "grpo", {**grpo, "loss_type": "grpo", "scale_rewards": "group", "kl_coef": 0.03}
    if algo == "dr_grpo":
        return "grpo", {**grpo, "loss_type": "dr_grpo", "scale_rewards": "none", "kl_coef": 0.0}
    return "grpo", {**grpo, "loss_type": "dapo", "clip_range_high": 0.28, "kl_coef": 0.0,
                    "overlong_buffer": max_new_tokens // 4}


def rows_of(algo: str, out: Path) -> list[dict]:
    """Per step: reward, correct and format rate, response tokens per second, seconds."""
    from medo1.train.common import read_metrics

    rows = []
    for m in read_metrics(out):
        if "reward" not in m:
            continue
        if algo == "ppo":
            seconds = sum(m[k] for k in ("rollout_seconds", "score_seconds", "evaluate_seconds", "update_seconds"))
            length = m["response_length"]
        else:
            seconds, length = m["step_time"], m["completions/mean_length"]
        rows.append({"step": m["step"], "reward": m["reward"], "correct": m.get("correct_rate"),
                     "format": m["format_rate"], "tok_s": RESPONSES * length / seconds, "seconds": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/rl-variants"), help="SFT checkpoint, runs, results")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--sft-epochs", type=float, default=2.0)
    parser.add_argument("--only", default=",".join(ALGOS), help="comma-separated: " + ", ".join(ALGOS))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    from medo1.train.rl import train_rl

    args.work.mkdir(parents=True, exist_ok=True)
    sft_data, problems = write_data(args.work)
    model = tiny_sft(args.work, sft_data, args.sft_epochs)
    table: dict[str, list[dict]] = {}
    totals: dict[str, float] = {}
    for algo in [a.strip() for a in args.only.split(",") if a.strip()]:
        out = args.work / "rl" / algo
        if out.exists():
            import shutil

            shutil.rmtree(out)
        trainer, given = settings(algo, problems, model, out, args.steps, args.max_new_tokens)
        started = time.perf_counter()
        train_rl(trainer, "ours", given)
        totals[algo] = time.perf_counter() - started
        table[algo] = rows_of(algo, out)
        print(f"{algo}: {totals[algo]:.0f} s")

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.0f}%"

    print(f"\nSmoke comparison, not a quality claim: embedded SmolLM2-135M after a tiny SFT, 20 held-out bundled "
          f"questions with options, the `option` reward, {RESPONSES} responses a step, {torch.get_num_threads()} "
          f"threads, load {os.getloadavg()[0]:.1f}")
    header = f"| {'algorithm':<8} | step | reward | correct | format | tokens/s | s/step |"
    print(header + "\n|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for algo, rows in table.items():
        for r in rows:
            print(f"| {algo:<8} | {r['step']:>4} | {r['reward']:>6.3f} | {pct(r['correct']):>7} | {pct(r['format']):>6} "
                  f"| {r['tok_s']:>8.1f} | {r['seconds']:>6.1f} |")
    print("\n" + ", ".join(f"{algo} {seconds:.0f} s in all" for algo, seconds in totals.items()))
    (args.work / "results.json").write_text(json.dumps({"rows": table, "totals": totals}, indent=2) + "\n")


if __name__ == "__main__":
    main()
