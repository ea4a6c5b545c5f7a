"""Where and how verl runs the RL stage (`VerlSettings`, the recipe's `rl.verl`), one run resolved to paths
(`VerlJob`), and the algorithm's settings as verl takes them: what was given over the defaults, what verl
has no counterpart for (refused in one line), and how steps, epochs, attention and the judge's limits
come out. medo1.integrations.verl_overrides turns them into verl's Hydra overrides."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error

VERL_ALGOS = ("ppo", "grpo")


@dataclass
class VerlSettings:
    """Where and how verl runs the RL stage; the algorithm's settings themselves are the `rl` section's."""

    nnodes: int = field(default=1, metadata={"help": "Nodes of the Ray cluster (trainer.nnodes); more than one "
                                                     "needs a scheduler (the launch script starts Ray under Slurm)."})
    n_gpus_per_node: int = field(default=8, metadata={"help": "GPUs per node (trainer.n_gpus_per_node)."})
    rollout: str = field(default="vllm", metadata={"help": "Rollout engine: vllm or sglang."})
    tensor_parallel_size: int = field(default=1, metadata={"help": "Rollout tensor parallel size (8B: 1 or 2)."})
    gpu_memory_utilization: float = field(default=0.5, metadata={"help": "Share of GPU memory the rollout engine "
                                                                         "takes (it shares the GPUs with training)."})
    critic_lr: float | None = field(default=None, metadata={"help": "Critic learning rate (default: the policy's)."})
    attention: str = field(default="auto", metadata={
        "help": "Attention of actor, reference and critic: flash_attention_2 (with verl's remove-padding), sdpa, or "
                "auto (flash_attention_2 when flash_attn imports where the launch is prepared, else sdpa)."})
    val_size: int = field(default=64, metadata={"help": "Problems held out for validation (at most a tenth; none "
                                                        "when test_freq is -1)."})
    test_freq: int | None = field(default=None, metadata={
        "help": "Steps between validations on the held-out problems (None: at every checkpoint, save_steps; -1: no "
                "validation and nothing held out). verl also validates after the last step."})
    val_before_train: bool = field(default=False, metadata={"help": "Validate once before the first step."})
    logger: list[str] = field(default_factory=lambda: ["console", "file", "tensorboard"],
                              metadata={"help": "verl loggers; `file` feeds medo1's metrics and report, "
                                                "`tensorboard` writes under <out>/verl/tensorboard."})
    reward_workers: int = field(default=8, metadata={"help": "verl's reward workers (Ray actors, spread over the "
                                                             "nodes): the judge's limits below are shared among them."})
    judge_max_concurrent: int | None = field(default=None, metadata={
        "help": "API judge: requests in flight in all, shared among the reward workers (default: the run's "
                "concurrency)."})
    judge_max_rpm: int | None = field(default=None, metadata={"help": "API judge: requests per minute in all, shared "
                                                                      "among the reward workers (None: no cap)."})
    judge_max_tpm: int | None = field(default=None, metadata={"help": "API judge: tokens per minute in all, shared "
                                                                      "among the reward workers (None: no cap)."})
    judge_timeout: float = field(default=300.0, metadata={
        "help": "API judge: verl's limit in seconds per reward; the verification stops at 90% of it and counts as "
                "a failed verification (recorded in verl.failed.jsonl)."})
    overrides: list[str] = field(default_factory=list,
                                 metadata={"help": "More verl Hydra overrides (key=value), applied last (the option "
                                                   "once per override).", "repeat": True,
                                           "aliases": ["--verl-override"]})


@dataclass
class VerlJob:
    """Everything one verl run needs, resolved to paths."""

    train_files: str
    val_files: str
    model: str  # a local HF checkpoint directory (the SFT model)
    out: str  # medo1's RL output directory; verl's checkpoints go to <out>/verl
    train_rows: int = 0  # training problems (after prompts over max_prompt_length are left out)
    algo: str = "ppo"
    run_name: str = "run"
    verifier: str = "match"
    value_model: str | None = None
    lang: str = "en"
    prompts: str | None = None
    cache: str | bool = True
    concurrency: int = 32
    has_val: bool = False


@dataclass
class Plan:
    overrides: list[str]
    notes: list[str]  # one line each: a setting verl takes otherwise than ours


def metrics_path(out: str | Path) -> str:
    """Where verl's `file` logger writes (it truncates the file when it starts: see `keep_metrics`)."""
    return str(Path(out) / "verl" / "metrics.jsonl")


def tensorboard_dir(out: str | Path) -> str:
    return str(Path(out) / "verl" / "tensorboard")


def samples_dir(out: str | Path) -> str:
    """Per-sample reward records (score, correct, formatted, verify_failed) that compute_score appends."""
    return str(Path(out) / "verl" / "rewards")


def is_api_judge(verifier: str) -> bool:
    """A judge behind an HTTP API (rate limits apply), as opposed to match, a classifier or a local model."""
    from medo1.verify.combined import split_spec

    return any(part.startswith("judge:openai:") for part in split_spec(verifier))


def algo_config(algo: str) -> type:
    """The algorithm's settings dataclass: PPOConfig (ppo) or TRLRLSettings (grpo)."""
    from medo1.train.rl_config import PPOConfig, TRLRLSettings

    return PPOConfig if algo == "ppo" else TRLRLSettings


def algo_defaults(algo: str) -> dict[str, Any]:
    """The documented defaults of the algorithm's settings."""
    return {f.name: f.default for f in dataclasses.fields(algo_config(algo)) if f.default is not dataclasses.MISSING}


def settings_for(algo: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The algorithm's settings: what was given (None: not given), over the defaults. `gradient_checkpointing`
    not given is on: an 8B policy does not fit verl's micro batches without it."""
    if algo not in VERL_ALGOS:
        raise Medo1Error(f"rl.engine verl runs {' or '.join(VERL_ALGOS)}; algo {algo} runs on TRL (engine ours)")
    given = dict(given or {})
    names = {f.name for f in dataclasses.fields(algo_config(algo))}
    if unknown := sorted(k for k, v in given.items() if k not in names and v is not None):
        raise Medo1Error(f"rl ({algo} on verl): no setting {', '.join(unknown)}")
    p = {**algo_defaults(algo), **{k: v for k, v in given.items() if v is not None}}
    if given.get("gradient_checkpointing") is None:
        p["gradient_checkpointing"] = True
    if algo == "grpo":
        p["num_generations"] = p.get("num_generations") or 8
        p.setdefault("max_prompt_length", 1024)
    check_supported(algo, p)
    return p


def check_supported(algo: str, p: Mapping[str, Any]) -> None:
    """Settings verl has no counterpart for are refused with one line, unless left at their defaults."""
    defaults = algo_defaults(algo)
    refused = {
        "vf_coef": "verl's critic has its own optimizer (set rl.verl.critic_lr instead)",
        "whiten_rewards": "verl has no reward whitening",
        "missing_eos_penalty": "verl has no penalty for cut-off responses (they already get the no-format reward)",
        "use_vllm": "verl always generates with its rollout engine (rl.verl.rollout)",
        "vllm_gpu_memory_utilization": "set rl.verl.gpu_memory_utilization instead",
        "dpo_beta": "grpo on verl has no DPO beta",
        **{name: "medo1 maps TRL's GRPO variants only; give verl's own key in rl.verl.overrides (e.g. "
                 "actor_rollout_ref.actor.loss_agg_mode, clip_ratio_high, algorithm.norm_adv_by_std_in_grpo)"
           for name in ("loss_type", "scale_rewards", "clip_range_high", "mask_truncated_completions",
                        "num_iterations")},
    }
    for name, why in refused.items():
        if name in defaults and p.get(name) != defaults[name]:
            raise Medo1Error(f"rl.{name}={p.get(name)!r} does not apply with rl.engine verl: {why}")
    if p.get("bf16") is False:
        raise Medo1Error("rl.bf16=false does not apply with rl.engine verl: verl trains in bf16 mixed precision")


def prompts_per_step(algo: str, p: Mapping[str, Any]) -> int:
    """Problems per step (data.train_batch_size): PPO's batch_size, or GRPO's completions / num_generations."""
    if algo != "grpo":
        return int(p["batch_size"])
    n = int(p["num_generations"])
    if p["batch_size"] % n:
        raise Medo1Error(f"rl: batch_size {p['batch_size']} (completions) must be a multiple of num_generations {n}")
    return int(p["batch_size"]) // n


def steps_and_epochs(p: Mapping[str, Any], train_rows: int, prompts_per_step: int) -> tuple[int, int]:
    """(total_training_steps, total_epochs): as many steps as our trainer takes (max_steps, else
    ceil(epochs * problems / batch)), and enough epochs of verl's dataloader (it drops the last partial
    batch) to hold them, so verl reaches its last step and saves there."""
    per_epoch = train_rows // prompts_per_step
    if per_epoch < 1:
        raise Medo1Error(f"rl: {train_rows} training problems do not fill one batch of {prompts_per_step} "
                         "(lower batch_size or add problems)")
    if int(p["max_steps"]) > 0:
        steps = int(p["max_steps"])
    else:
        steps = max(1, math.ceil(float(p["epochs"]) * train_rows / prompts_per_step))
    return steps, math.ceil(steps / per_epoch)


def attention(choice: str) -> str:
    if choice == "auto":
        try:  # a probe, not a dependency: what verl's remove-padding imports, when it is installed
            importlib.import_module("flash_attn.bert_padding")
        except Exception:  # not installed, or built for another torch/CUDA: either way it does not import
            return "sdpa"
        return "flash_attention_2"
    if choice not in ("flash_attention_2", "sdpa", "eager"):
        raise Medo1Error(f"rl.verl.attention {choice!r}: expected auto, flash_attention_2, sdpa or eager")
    return choice


def judge_limits(s: VerlSettings, concurrency: int) -> dict[str, Any]:
    """verl's `rate_limited` manager keeps its limits per process, and verl starts `reward_workers` of them:
    each gets its share of the totals (at least one request in flight; never more workers than that)."""
    total = s.judge_max_concurrent or concurrency
    workers = max(1, min(s.reward_workers, total))
    return {"workers": workers, "concurrent": max(1, total // workers),
            "rpm": None if s.judge_max_rpm is None else s.judge_max_rpm / workers,
            "tpm": None if s.judge_max_tpm is None else s.judge_max_tpm / workers}
