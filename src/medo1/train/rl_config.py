"""The RL stage's settings, one dataclass per trainer: `PPOConfig` (our PPO, and PPO on verl) and
`TRLRLSettings` (GRPO / RLOO on TRL, GRPO on verl, DPO on TRL). What they share is medo1.train.config's
`RLSettings`; which trainer runs which algorithm on which engine is `medo1.train.rl.train_rl`'s. This
module imports no torch: the CLI reads it at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from medo1.train.config import CheckpointSettings, RLSettings, TrainingSettings, default

TRL_ALGOS = ("grpo", "rloo", "dpo")


@dataclass(kw_only=True)
class PPOConfig(RLSettings):
    """PPO settings. Defaults follow the paper where it gives them; the rest follow TRL's former PPOTrainer.
    The fields every RL algorithm shares (problems, verifier, sampling, KL, learning rate, batch, steps,
    checkpoints) are medo1.train.config's."""

    value_model: str | None = field(
        default=None,
        metadata={"help": "Checkpoint the value model starts from (default: the SFT model)."},
    )
    batch_size: int = default(TrainingSettings, "batch_size", 128, "paper: 128",
                              help="Problems (one response each) per PPO step, all processes.")
    num_mini_batches: int = field(
        default=1,
        metadata={"help": "Optimizer steps per PPO epoch: the batch is split into this many mini batches."},
    )
    rollout_batch_size: int = field(default=32, metadata={"help": "Prompts per generate call on one device."})
    ppo_epochs: int = field(default=3, metadata={"help": "Passes over each batch (paper: 3)."})
    gamma: float = field(default=1.0, metadata={"help": "GAE discount (paper: 1.0)."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda (paper: 0.95)."})
    clip_range: float = field(default=0.2, metadata={"help": "Policy ratio clip (paper: 0.2)."})
    value_clip_range: float = field(default=0.2, metadata={"help": "Value prediction clip around the rollout values."})
    vf_coef: float = field(default=1.0, metadata={"help": "Weight of the value loss (paper: 1.0)."})
    whiten_rewards: bool = field(default=False, metadata={"help": "Whiten per-token rewards before GAE."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    max_prompt_length: int = field(
        default=1024,
        metadata={"help": "Problems whose prompt is longer are left out (listed in ppo.skipped.json)."},
    )
    missing_eos_penalty: float = field(
        default=0.0,
        metadata={"help": "Subtracted from the reward of a response cut off at max_new_tokens (which already gets the no-"
                          "format reward 0.0)."},
    )
    save_steps: int = default(CheckpointSettings, "save_steps", 20)


@dataclass(kw_only=True)
class TRLRLSettings(RLSettings):
    """GRPO / RLOO / DPO settings. The RL defaults follow the paper's PPO run where they carry over
    (lr 5e-7, batch 128, KL beta 0.03, temperature 0.5, responses up to ~1300 tokens); the fields every
    RL algorithm shares are medo1.train.config's."""

    algo: str = field(metadata={"help": "grpo | rloo | dpo", "choices": list(TRL_ALGOS)})
    batch_size: int = default(TrainingSettings, "batch_size", 128, "paper: 128",
                              help="Per optimizer step, all devices: completions (grpo, rloo) or pairs (dpo).")
    num_generations: int | None = field(
        default=None,
        metadata={"help": "Samples per problem: rloo 2 (paper's k), grpo 8 (TRL's default), dpo 5 (paper)."},
    )
    dpo_beta: float = field(default=0.1, metadata={"help": "DPO beta (TRL's default)."})
    use_vllm: bool = field(
        default=False,
        metadata={"help": "grpo / rloo: generate with vLLM inside the training processes (TRL's colocate mode; "
                          "needs vllm and GPUs)."},
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.3,
        metadata={"help": "With use_vllm: share of each GPU's memory vLLM takes (TRL's default)."},
    )
    save_steps: int = default(CheckpointSettings, "save_steps", 50)

    def generations(self) -> int:
        return self.num_generations or {"rloo": 2, "grpo": 8, "dpo": 5}[self.algo]
