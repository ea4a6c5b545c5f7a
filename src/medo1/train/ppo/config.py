"""PPO settings (`PPOConfig`, a TRL-style dataclass) and the `Scorer` a PPO run is rewarded by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from medo1.train.common import KEEP_CHECKPOINTS_HELP
from medo1.train.reward import Scores
from medo1.verify import Overlong


@dataclass
class PPOConfig:
    """PPO settings. Defaults follow the paper where it gives them; the rest follow TRL's former PPOTrainer."""

    problems: str = field(
        metadata={"help": "RL problems: .jsonl/.json (ours or medical-o1 verifiable problems) or a HF dataset id."},
    )
    model: str = field(metadata={"help": "The SFT model: a checkpoint directory, `hf:<path-or-repo>` or `embedded`."})
    out: str = field(
        metadata={"help": "Output directory: the trained policy, value model, checkpoints, metrics.jsonl."},
    )
    value_model: str | None = field(
        default=None,
        metadata={"help": "Checkpoint the value model starts from (default: the SFT model)."},
    )
    verifier: str = field(
        default="match",
        metadata={"help": "Verifier spec: match, judge:<model spec> or classifier:<path>."},
    )
    learning_rate: float = field(
        default=5e-7,
        metadata={"help": "AdamW learning rate of policy and value model (paper: 5e-7)."},
    )
    batch_size: int = field(
        default=128,
        metadata={"help": "Problems (one response each) per PPO step, all processes (paper: 128)."},
    )
    num_mini_batches: int = field(
        default=1,
        metadata={"help": "Optimizer steps per PPO epoch: the batch is split into this many mini batches."},
    )
    micro_batch_size: int = field(
        default=8,
        metadata={"help": "Sequences per forward/backward pass on one device (gradient accumulation)."},
    )
    rollout_batch_size: int = field(default=32, metadata={"help": "Prompts per generate call on one device."})
    ppo_epochs: int = field(default=3, metadata={"help": "Passes over each batch (paper: 3)."})
    gamma: float = field(default=1.0, metadata={"help": "GAE discount (paper: 1.0)."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda (paper: 0.95)."})
    kl_coef: float = field(
        default=0.03,
        metadata={"help": "beta of the per-token KL penalty to the SFT model (paper: 0.03)."},
    )
    clip_range: float = field(default=0.2, metadata={"help": "Policy ratio clip (paper: 0.2)."})
    value_clip_range: float = field(default=0.2, metadata={"help": "Value prediction clip around the rollout values."})
    vf_coef: float = field(default=1.0, metadata={"help": "Weight of the value loss (paper: 1.0)."})
    whiten_rewards: bool = field(default=False, metadata={"help": "Whiten per-token rewards before GAE."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    temperature: float = field(
        default=0.5,
        metadata={"help": "Sampling temperature; log-probs use the same (paper: 0.5)."},
    )
    max_new_tokens: int = field(default=1300, metadata={"help": "Longest response in tokens (paper: ~1300)."})
    max_prompt_length: int = field(
        default=1024,
        metadata={"help": "Problems whose prompt is longer are left out (listed in ppo.skipped.json)."},
    )
    missing_eos_penalty: float = field(
        default=0.0,
        metadata={"help": "Subtracted from the reward of a response cut off at max_new_tokens (which already gets the no-"
                          "format reward 0.0)."},
    )
    overlong_buffer: int = field(
        default=0,
        metadata={"help": "DAPO's soft overlong penalty: L_cache, the last tokens before max_new_tokens over which the "
                          "reward falls linearly by up to overlong_penalty_factor (DAPO: 4096 of 20480; 0: off)."},
    )
    overlong_penalty_factor: float = field(
        default=1.0,
        metadata={"help": "The overlong penalty at max_new_tokens (DAPO, verl's penalty_factor: 1.0)."},
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the problems."})
    max_steps: int = field(
        default=-1,
        metadata={"help": "Stop after this many PPO steps (-1: as many as `epochs` needs)."},
    )
    lr_scheduler: str = field(
        default="linear",
        metadata={"help": "Learning-rate schedule over PPO steps (transformers names)."},
    )
    warmup_steps: int = field(default=0, metadata={"help": "PPO steps of linear warmup."})
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision; default: when the hardware supports it natively."},
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations in backward: less memory, slower."},
    )
    save_steps: int = field(default=20, metadata={"help": "PPO steps between checkpoints."})
    keep_checkpoints: int = field(default=0, metadata={"help": KEEP_CHECKPOINTS_HELP})
    resume: bool = field(default=False, metadata={"help": "Continue from the latest checkpoint in --out."})
    seed: int = field(default=42, metadata={"help": "Random seed (problem order, sampling)."})


    def overlong(self) -> Overlong | None:
        """The overlong penalty's settings, None when it is off."""
        if not self.overlong_buffer:
            return None
        return Overlong(self.max_new_tokens, self.overlong_buffer, self.overlong_penalty_factor)


class Scorer(Protocol):
    """Turns responses into rewards; `RewardScorer` (the verifier reward) is the one PPO uses. `finished`:
    whether each response ended with EOS; `lengths`: their lengths in tokens."""

    def score(self, outputs: list[str], references: list[str], finished: list[bool] | None = None,
              lengths: list[int] | None = None) -> Scores: ...
