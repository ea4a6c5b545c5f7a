"""One PPO step on the embedded model: seconds per phase.

    python benchmarks/ppo_step.py                          # embedded model, 8 problems, 128-token responses
    python benchmarks/ppo_step.py --batch 16 --max-new-tokens 256 --model hf:DIR

Problems are the bundled sample questions (question + correct option text); the reward is the
paper's rule with the `match` verifier. Runs `--steps` PPO steps (the first one warms up) and prints,
for each, the seconds spent sampling (rollout), verifying (score), computing log-probs / reference
log-probs / values (evaluate) and in the PPO epochs (update), and the sampled tokens per second.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--batch", type=int, default=8, help="problems per PPO step")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()

    from medo1.data import load_sample
    from medo1.precision import choose_bf16, training_device
    from medo1.train.ppo import PPOConfig, PPOTrainer

    with tempfile.TemporaryDirectory() as tmp:
        problems = Path(tmp) / "problems.jsonl"
        problems.write_text("".join(
            json.dumps({"question": q.question, "answer": q.answer_text}) + "\n" for q in load_sample("train")
        ))
        cfg = PPOConfig(problems=str(problems), model=args.model, out=str(Path(tmp) / "out"), batch_size=args.batch,
                        micro_batch_size=args.micro_batch, max_new_tokens=args.max_new_tokens, save_steps=10**6)
        trainer = PPOTrainer(cfg)
        print(f"model {args.model}: batch {args.batch}, micro batch {trainer.micro_batch}, responses up to "
              f"{args.max_new_tokens} tokens, {cfg.ppo_epochs} PPO epochs, "
              f"{'bf16' if trainer.bf16 else 'fp32'}, threads {torch.get_num_threads()}")
        print(choose_bf16(training_device()).line())  # why this precision (measured on this machine)
        print(f"{'step':>4} {'rollout':>8} {'score':>7} {'evaluate':>9} {'update':>8} {'total':>8} "
              f"{'resp len':>9} {'sampled tok/s':>14}")
        for step in range(args.steps):
            m = trainer.step(step)
            phases = [m["rollout_seconds"], m["score_seconds"], m["evaluate_seconds"], m["update_seconds"]]
            sampled = m["response_length"] * args.batch / m["rollout_seconds"]
            print(f"{step + 1:>4} " + " ".join(f"{p:>{w}.2f}" for p, w in zip(phases, (8, 7, 9, 8)))
                  + f" {sum(phases):>8.2f} {m['response_length']:>9.1f} {sampled:>14.1f}")
        trainer.close()


if __name__ == "__main__":
    main()
