"""The RL stage's settings, one dataclass per trainer: `PPOConfig` (our PPO, and PPO on verl) and
`TRLRLSettings` (GRPO / RLOO on TRL, GRPO on verl, DPO on TRL). What they share is medo1.train.config's
`RLSettings`; which trainer runs which algorithm on which engine is `medo1.train.rl.train_rl`'s. This
module imports no torch: the CLI reads it at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from medo1.errors import Medo1Error
from medo1.train.config import CheckpointSettings, RLSettings, TrainingSettings, default

TRL_ALGOS = ("grpo", "rloo", "dpo")
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo")  # TRL's GRPOConfig.loss_type values medo1 offers
SCALE_REWARDS = ("group", "batch", "none")  # TRL's GRPOConfig.scale_rewards
# The GRPO-family settings and the TRL algorithms that have them (any other refuses a value off its default).
VARIANT_FIELDS: dict[str, tuple[str, ...]] = {
    "loss_type": ("grpo",), "scale_rewards": ("grpo",), "clip_range": ("grpo", "rloo"),
    "clip_range_high": ("grpo", "rloo"), "mask_truncated_completions": ("grpo", "rloo"),
    "num_iterations": ("grpo", "rloo"),
}


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
    loss_type: str = field(default="dapo", metadata={
        "help": "grpo: how the token losses of a batch are averaged. grpo (GRPO, DeepSeekMath: per response, then "
                "over responses; favours short right and long wrong answers), dr_grpo (Dr. GRPO: summed, divided by "
                "max_new_tokens), dapo (DAPO: over every token of the accumulated batch; TRL's default), bnpo (over "
                "the tokens of each device's batch).", "choices": list(LOSS_TYPES)})
    scale_rewards: str = field(default="group", metadata={
        "help": "grpo: divide each advantage by the reward spread of its problem's group (group: GRPO), of the "
                "whole batch (batch), or not at all (none: Dr. GRPO, which found the spread a difficulty bias).",
        "choices": list(SCALE_REWARDS)})
    clip_range: float = field(default=0.2, metadata={
        "help": "grpo, rloo: the policy ratio's clip, below and (unless clip_range_high) above (GRPO, PPO: 0.2)."})
    clip_range_high: float | None = field(default=None, metadata={
        "help": "grpo, rloo: the ratio's upper clip, when it differs (DAPO's clip-higher: 0.28; default: "
                "clip_range)."})
    mask_truncated_completions: bool = field(default=False, metadata={
        "help": "grpo, rloo: leave responses cut off at max_new_tokens out of the loss (DAPO's overlong filtering); "
                "their 0.0 reward still counts in their group's baseline."})
    num_iterations: int = field(default=1, metadata={
        "help": "grpo, rloo: optimizer passes over each batch of responses (GRPO's mu; 1: on-policy)."})
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

    def variant_args(self) -> dict:
        """The GRPO-family settings as the algorithm's TRL config fields (GRPOConfig, RLOOConfig); a setting off its
        default that the algorithm does not have is refused in one line, never ignored."""
        defaults = {f.name: f.default for f in fields(self) if f.name in VARIANT_FIELDS}
        for name, algos in VARIANT_FIELDS.items():
            if self.algo not in algos and getattr(self, name) != defaults[name]:
                why = {"rloo": "RLOO's advantage is its leave-one-out baseline, and TRL's RLOOTrainer has no "
                               f"{name}", "dpo": "DPO trains on pairs, with no policy-gradient loss"}[self.algo]
                raise Medo1Error(f"rl {self.algo}: {name}={getattr(self, name)!r} applies to "
                                 f"{' and '.join(algos)} only ({why})")
        if self.clip_range_high is not None and self.clip_range_high < 0:
            raise Medo1Error(f"rl {self.algo}: clip_range_high {self.clip_range_high}: must be 0 or more (DAPO: 0.28)")
        if self.algo == "dpo":
            return {}
        args = {"epsilon": self.clip_range, "epsilon_high": self.clip_range_high, "num_iterations": self.num_iterations,
                "mask_truncated_completions": self.mask_truncated_completions}
        if self.algo == "grpo":
            args.update(loss_type=self.loss_type, scale_rewards=self.scale_rewards)
        return args
