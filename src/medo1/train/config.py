"""The settings every trainer shares, declared once. A trainer's settings dataclass extends the parts it
has (TRL's configs extend `TrainingArguments` the same way) and gives its own defaults with `default`:

    TrainingSettings    learning rate and schedule, batch and micro batch, epochs / steps, bf16,
                        gradient checkpointing, seed          (SFT, PPO, GRPO / RLOO / DPO, verifier)
    CheckpointSettings  logging, checkpoints, keep, resume    (SFT, PPO, GRPO / RLOO / DPO)
    LoraSettings        LoRA adapters                         (SFT, verifier)
    RLSettings          the problems, the verifier reward, sampling and KL  (PPO, GRPO / RLOO / DPO)

and SFTSettings, the SFT stage's. The RL algorithms' settings are medo1.train.rl_config's, the verifier
trainer's medo1.train.verifier's. This module imports no torch: the CLI reads it at start-up.

The CLI options, the recipe sections and `python -m medo1.train.*` are built from these fields
(medo1.settings).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from medo1.verify.base import Overlong

KEEP_CHECKPOINTS_HELP = ("Resumable checkpoints (weights + optimizer state) kept once the final weights are written; "
                         "while training the newest max(1, N) are kept so a killed run resumes. 0: none.")


def default(cls: type, name: str, value: Any, note: str | None = None, *, help: str | None = None) -> Any:
    """A field of a base settings class with another default (and a note on it, e.g. "paper: 5e-6"),
    keeping its help and aliases (or with `help` where the trainer reads it otherwise):
    `learning_rate: float = default(TrainingSettings, "learning_rate", 5e-6, "paper: 5e-6")`."""
    base = next(f for f in dataclasses.fields(cls) if f.name == name)
    metadata = dict(base.metadata)
    if help:
        metadata["help"] = help
    if note:
        metadata["help"] = f"{metadata['help'].rstrip('.')} ({note})."
    return field(default=value, metadata=metadata)


@dataclass(kw_only=True)
class TrainingSettings:
    learning_rate: float = field(default=5e-6, metadata={"help": "Peak learning rate.", "aliases": ["--lr"]})
    lr_scheduler: str = field(default="linear", metadata={
        "help": "Learning-rate schedule after warmup (transformers names: linear, cosine, constant, ...)."})
    warmup_ratio: float = field(default=0.0, metadata={
        "help": "Fraction of the optimizer steps for linear warmup, in [0, 1)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    batch_size: int = field(default=128, metadata={
        "help": "Effective batch: examples per optimizer step over all devices."})
    micro_batch_size: int = field(default=8, metadata={
        "help": "Examples per forward pass on one device; the rest is gradient accumulation."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the data."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1: all epochs)."})
    bf16: bool | None = field(default=None, metadata={
        "help": "bf16 mixed precision; default: when the hardware runs it natively and (on a CPU) measured no "
                "slower than fp32."})
    gradient_checkpointing: bool = field(default=False, metadata={
        "help": "Recompute activations in backward: less memory, ~30% slower."})
    seed: int = field(default=42, metadata={"help": "Random seed (data order, initialisation, sampling)."})


@dataclass(kw_only=True)
class CheckpointSettings:
    logging_steps: int = field(default=1, metadata={"help": "Optimizer steps between metric lines."})
    save_steps: int = field(default=100, metadata={"help": "Optimizer steps between resumable checkpoints."})
    keep_checkpoints: int = field(default=0, metadata={"help": KEEP_CHECKPOINTS_HELP})
    resume: bool = field(default=False, metadata={"help": "Continue from the latest checkpoint in --out."})


@dataclass(kw_only=True)
class LoraSettings:
    lora: bool = field(default=False, metadata={
        "help": "Train LoRA adapters (peft) instead of all weights; the saved model is merged."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})


@dataclass(kw_only=True)
class RLInputs:
    problems: str = field(metadata={
        "help": "RL problems: .jsonl/.json (ours or medical-o1 verifiable problems) or a HF dataset id."})
    model: str = field(metadata={"help": "The SFT model: a checkpoint directory, `hf:<path-or-repo>` or `embedded`."})
    out: str = field(metadata={"help": "Output directory: the trained model, checkpoints, metrics.jsonl."})


@dataclass(kw_only=True)
class RLSettings(CheckpointSettings, TrainingSettings, RLInputs):
    """What every RL algorithm shares: the problems, the verifier reward and how responses are sampled.
    Defaults follow the paper's PPO run (lr 5e-7, batch 128, KL beta 0.03, temperature 0.5, ~1300 tokens)."""

    verifier: str = field(default="match", metadata={
        "help": "The reward's verifier: match, match:strict (only an answer statement that is the reference "
                "alone; the hardest to game), option (the committed option letter), judge:<model spec> or "
                "classifier:<path>; several joined by + (match+classifier:<path>) pay only when every part "
                "accepts."})
    learning_rate: float = default(TrainingSettings, "learning_rate", 5e-7, "paper, RL: 5e-7")
    kl_coef: float = field(default=0.03, metadata={"help": "KL beta to the SFT model (paper: 0.03)."})
    temperature: float = field(default=0.5, metadata={"help": "Sampling temperature (paper: 0.5)."})
    max_new_tokens: int = field(default=1300, metadata={"help": "Longest response in tokens (paper: ~1300)."})
    overlong_buffer: int = field(default=0, metadata={
        "help": "DAPO's soft overlong penalty: a linear penalty over the last N tokens before max_new_tokens, "
                "reaching overlong_penalty_factor at the limit (0: off; DAPO: 4096 of 20480)."})
    overlong_penalty_factor: float = field(default=1.0, metadata={
        "help": "The overlong penalty at max_new_tokens (DAPO: 1.0)."})

    def overlong(self) -> Overlong | None:
        """The overlong penalty's settings, None when it is off (bad ones fail here, before anything loads)."""
        if not self.overlong_buffer:
            return None
        return Overlong(self.max_new_tokens, self.overlong_buffer, self.overlong_penalty_factor)


@dataclass(kw_only=True)
class SFTInputs:
    data: str = field(
        metadata={"help": "SFT examples: .jsonl/.json (ours or medical-o1 `Question, Complex_CoT, Response`) or a HF "
                          "dataset id (`name[:config]`)."},
    )
    model: str = field(
        metadata={"help": "Base model: `embedded`, `hf:<path-or-repo>`, a checkpoint directory or a hub repo id."},
    )
    out: str = field(metadata={"help": "Output directory: the trained model, checkpoints, metrics.jsonl."})


@dataclass(kw_only=True)
class SFTSettings(LoraSettings, CheckpointSettings, TrainingSettings, SFTInputs):
    """SFT settings. Defaults follow the paper (HuatuoGPT-o1, 8B: 3 epochs, lr 5e-6, batch 128); the fields
    every trainer shares are medo1.train.config's."""

    learning_rate: float = default(TrainingSettings, "learning_rate", 5e-6, "paper: 5e-6")
    lr_scheduler: str = default(TrainingSettings, "lr_scheduler", "cosine")
    warmup_ratio: float = default(TrainingSettings, "warmup_ratio", 0.05)
    batch_size: int = default(TrainingSettings, "batch_size", 128, "paper: 128")
    micro_batch_size: int = default(TrainingSettings, "micro_batch_size", 4)
    epochs: float = default(TrainingSettings, "epochs", 3.0, "paper: 3")
    max_length: int = field(
        default=4096,
        metadata={"help": "Longest tokenized example; longer ones are cut at the end."},
    )
    padding_free: str = field(
        default="auto",
        metadata={"help": "auto | on | off. on: examples of a micro batch end to end in one row (checked to be exact for "
                          "the model); auto: on with flash-attention kernels, else length-grouped padding.",
                  "choices": ["auto", "on", "off"]},
    )
    packing: bool = field(
        default=False,
        metadata={"help": "Pack examples into rows of max_length tokens (TRL bfd packing); the batch then counts rows, not "
                          "examples."},
    )
    save_steps: int = default(CheckpointSettings, "save_steps", 100)
    chat_template: str | None = field(
        default=None,
        metadata={"help": "Jinja chat template file, for models without one. The token that closes its assistant "
                          "turn (e.g. <|eot_id|>, <|im_end|>) is saved as an EOS of the checkpoint."},
    )
    attn_implementation: str | None = field(
        default=None,
        metadata={"help": "transformers attention kernel (e.g. sdpa, flash_attention_2); default: transformers' choice."},
    )
