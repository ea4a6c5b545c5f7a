"""medo1's RL settings as verl Hydra overrides, checked against verl's own `ppo_trainer` config.

How the paper's PPO maps onto verl (our PPOConfig field -> verl key):
    GAE with a critic          algorithm.adv_estimator=gae, gamma, lam
    KL to the SFT model        algorithm.use_kl_in_reward=True, kl_ctrl fixed, kl_coef 0.03 (per token, in the
                               reward, as in our PPO; actor.use_kl_loss=False)
    clip_range 0.2             actor.clip_ratio, clip_ratio_low and clip_ratio_high (verl's vanilla loss reads the
                               last two); verl's dual clip (clip_ratio_c) is off, as in ours;
                               value_clip_range -> critic.cliprange_value
    learning_rate 5e-7         actor.optim.lr (critic.optim.lr too unless `critic_lr` is set)
    lr_scheduler, warmup       optim.lr_scheduler_type, lr_warmup_steps (verl's FSDP optimizer knows constant and
                               cosine: our linear decay becomes cosine to 0 over the same steps, said in a note)
    ppo_epochs 3, batch 128    actor.ppo_epochs (the critic follows), data.train_batch_size,
                               ppo_mini_batch_size = batch_size / num_mini_batches
    temperature 0.5, 1300      rollout.temperature (top_p 1, top_k off), data.max_response_length
    epochs, max_steps          trainer.total_training_steps (as many as ours would take) and total_epochs (enough
                               epochs of verl's dataloader to hold them); verl saves at the last step
    rollout on vLLM            rollout.name=vllm, one response per problem (rollout.n=1)
    the reward                 reward.custom_reward_function -> medo1.integrations.verl_reward.compute_score,
                               verifier settings in its reward_kwargs; an API judge selects verl's
                               `rate_limited` reward manager, its limits shared out among the reward workers
GRPO (`algo: grpo`, TRLRLSettings): adv_estimator=grpo, rollout.n = num_generations, no critic, and the KL to
the SFT model as a loss (actor.use_kl_loss, low_var_kl), as verl's GRPO runs it; batch_size counts completions
as in TRL, so data.train_batch_size = batch_size / num_generations problems.

Refused with one line (no verl counterpart): vf_coef other than its default, whiten_rewards, missing_eos_penalty,
bf16 off, TRL's use_vllm. Noted in one line: rollout_batch_size (vLLM batches the rollout itself).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error

VERL_ALGOS = ("ppo", "grpo")
NO_DUAL_CLIP = 1e9  # verl's vanilla loss always applies dual clip at ratio clip_ratio_c (> 1); this never binds
# our lr_scheduler (transformers names) -> verl's FSDP optimizer (constant | cosine)
SCHEDULES = {"linear": "cosine", "cosine": "cosine", "constant": "constant", "constant_with_warmup": "constant"}
VERIFY_SHARE = 0.9  # the verification is cut off at this share of verl's reward timeout


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


def hydra_value(value: Any) -> str:
    """A Python value as a Hydra override value (strings quoted, so ':' '=' ',' are safe)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def is_api_judge(verifier: str) -> bool:
    """A judge behind an HTTP API (rate limits apply), as opposed to match, a classifier or a local model."""
    return verifier.startswith("judge:openai:")


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


def plan(job: VerlJob, given: Mapping[str, Any] | None = None, settings: VerlSettings | None = None) -> Plan:
    """verl Hydra overrides for `job.algo` with medo1's data and reward, and the notes to log."""
    from medo1.integrations import verl_reward

    s = settings or VerlSettings()
    p = settings_for(job.algo, given)
    notes: list[str] = []
    out = Path(job.out)
    grpo = job.algo == "grpo"
    n = int(p["num_generations"]) if grpo else 1
    prompts = prompts_per_step(job.algo, p)
    mini_batches = 1 if grpo else int(p["num_mini_batches"])
    if prompts % mini_batches:
        raise Medo1Error(f"rl: batch_size {prompts} must be a multiple of num_mini_batches {mini_batches}")
    steps, epochs = steps_and_epochs(p, job.train_rows, prompts)
    save_freq = max(1, int(p["save_steps"]))
    test_freq = (s.test_freq if s.test_freq is not None else save_freq) if job.has_val else -1
    schedule = SCHEDULES.get(p.get("lr_scheduler", "linear"))
    if schedule is None:
        raise Medo1Error(f"rl.lr_scheduler {p['lr_scheduler']!r} has no verl counterpart: use linear, cosine or "
                         "constant")
    if p.get("lr_scheduler", "linear") == "linear":
        notes.append("verl: the learning rate decays as a cosine to 0 over the run (verl's FSDP optimizer has no "
                     "linear decay)")
    if not grpo and p.get("rollout_batch_size") != algo_defaults("ppo")["rollout_batch_size"]:
        notes.append("verl: rl.rollout_batch_size is not used (vLLM batches the rollout itself)")
    attn = attention(s.attention)
    if attn != "flash_attention_2":
        why = "flash_attn does not import here" if s.attention == "auto" else f"rl.verl.attention is {attn}"
        notes.append(f"verl: {why}: actor, reference and critic use {attn} attention, without remove-padding")
    api_judge = is_api_judge(job.verifier)
    limits = judge_limits(s, job.concurrency)
    kwargs = {"verifier": job.verifier, "lang": job.lang, "prompts": job.prompts, "cache": job.cache,
              "cache_per_node": s.nnodes > 1,
              "concurrency": limits["concurrent"] if api_judge else job.concurrency,
              "verify_timeout": round(s.judge_timeout * VERIFY_SHARE, 3) if api_judge else None,
              "failed_path": str(out / "verl.failed.jsonl"), "samples_dir": samples_dir(out),
              # the one reward rule tells a cut-off response (and counts the overlong penalty) by its tokens
              "tokenizer": job.model, "max_resp_len": int(p["max_new_tokens"]),
              "overlong_buffer_len": int(p.get("overlong_buffer") or 0),
              "overlong_penalty_factor": float(p.get("overlong_penalty_factor", 1.0))}
    optim = {"lr_scheduler_type": schedule, "min_lr_ratio": 0.0, "num_cycles": 0.5,
             # the warmup steps as our PPO counts them (ceil of ratio x steps, as transformers); -1: none
             "lr_warmup_steps": math.ceil(float(p.get("warmup_ratio") or 0.0) * steps) or -1,
             "lr_warmup_steps_ratio": 0.0,
             "clip_grad": float(p.get("max_grad_norm", 1.0))}
    model = {"path": job.model, "enable_gradient_checkpointing": bool(p["gradient_checkpointing"]),
             "use_remove_padding": attn == "flash_attention_2"}
    micro = int(p["micro_batch_size"])
    clip = float(p.get("clip_range", 0.2))
    o: dict[str, Any] = {
        "algorithm.adv_estimator": "grpo" if grpo else "gae",
        "algorithm.gamma": float(p.get("gamma", 1.0)),
        "algorithm.lam": float(p.get("lam", 1.0)),
        "algorithm.use_kl_in_reward": not grpo,
        "algorithm.kl_penalty": "kl",
        "algorithm.kl_ctrl.type": "fixed",
        "algorithm.kl_ctrl.kl_coef": float(p["kl_coef"]),
        "data.train_files": job.train_files,
        "data.val_files": job.val_files,
        "data.prompt_key": "prompt",
        "data.max_prompt_length": int(p["max_prompt_length"]),
        "data.max_response_length": int(p["max_new_tokens"]),
        "data.train_batch_size": prompts,
        "data.filter_overlong_prompts": True,  # medo1 left them out already (verl_data); the same rule
        "data.truncation": "error",
        "data.seed": int(p["seed"]),
        **{f"actor_rollout_ref.model.{k}": v for k, v in model.items()},
        "actor_rollout_ref.actor.optim.lr": float(p["learning_rate"]),
        **{f"actor_rollout_ref.actor.optim.{k}": v for k, v in optim.items()},
        "actor_rollout_ref.actor.ppo_mini_batch_size": prompts // mini_batches,
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.actor.ppo_epochs": int(p.get("ppo_epochs", 1)),
        "actor_rollout_ref.actor.clip_ratio": clip,
        "actor_rollout_ref.actor.clip_ratio_low": clip,
        "actor_rollout_ref.actor.clip_ratio_high": clip,
        "actor_rollout_ref.actor.clip_ratio_c": NO_DUAL_CLIP,
        "actor_rollout_ref.actor.use_kl_loss": grpo,
        "actor_rollout_ref.actor.kl_loss_coef": float(p["kl_coef"]),
        "actor_rollout_ref.actor.kl_loss_type": "low_var_kl",
        "actor_rollout_ref.actor.entropy_coeff": 0.0,
        "actor_rollout_ref.rollout.name": s.rollout,
        "actor_rollout_ref.rollout.n": n,
        "actor_rollout_ref.rollout.temperature": float(p["temperature"]),
        "actor_rollout_ref.rollout.top_p": 1.0,
        "actor_rollout_ref.rollout.top_k": -1,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": s.tensor_parallel_size,
        "actor_rollout_ref.rollout.gpu_memory_utilization": s.gpu_memory_utilization,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": micro,
    }
    if grpo:
        o["critic.enable"] = False
    else:
        o.update({
            "critic.model.path": job.value_model or p.get("value_model") or job.model,
            **{f"critic.model.{k}": v for k, v in model.items() if k != "path"},
            "critic.optim.lr": float(s.critic_lr if s.critic_lr is not None else p["learning_rate"]),
            **{f"critic.optim.{k}": v for k, v in optim.items()},
            "critic.ppo_micro_batch_size_per_gpu": micro,
            "critic.cliprange_value": float(p["value_clip_range"]),
        })
    keep = max(1, int(p.get("keep_checkpoints") or 0))
    o.update({
        "reward.custom_reward_function.path": verl_reward.__file__,
        "reward.custom_reward_function.name": "compute_score",
        "reward.reward_manager.name": "rate_limited" if api_judge else "naive",
        "reward.num_workers": limits["workers"] if api_judge else s.reward_workers,
        "trainer.nnodes": s.nnodes,
        "trainer.n_gpus_per_node": s.n_gpus_per_node,
        "trainer.project_name": "medo1",
        "trainer.experiment_name": job.run_name,
        "trainer.default_local_dir": str(out / "verl"),
        "trainer.rollout_data_dir": str(out / "verl" / "rollouts"),  # per-step correct and format rates
        "trainer.logger": list(s.logger),
        "trainer.total_epochs": epochs,
        "trainer.total_training_steps": steps,
        "trainer.save_freq": save_freq,  # verl also saves at its last step when save_freq > 0
        "trainer.max_actor_ckpt_to_keep": keep,
        "trainer.max_critic_ckpt_to_keep": keep,
        "trainer.resume_mode": "auto",
        "trainer.test_freq": test_freq,
        "trainer.val_before_train": bool(s.val_before_train and job.has_val),
    })
    lines = [f"{key}={hydra_value(value)}" for key, value in o.items()]
    # Keys verl's config does not declare are added: `+` (new) or `++` (new or replaced, for open dicts)
    lines += [f"++actor_rollout_ref.model.override_config.attn_implementation={attn}"]
    if not grpo:
        lines += [f"++critic.model.override_config.attn_implementation={attn}"]
    lines += [f"+reward.custom_reward_function.reward_kwargs.{k}={hydra_value(v)}" for k, v in kwargs.items()]
    # verl's loggers run in Ray actors, maybe on another node: their paths go through Ray's runtime env
    env = {"VERL_FILE_LOGGER_PATH": metrics_path(out), "TENSORBOARD_DIR": tensorboard_dir(out)}
    lines += [f"+ray_kwargs.ray_init.runtime_env.env_vars.{k}={hydra_value(v)}" for k, v in env.items()]
    if not grpo and attn != "flash_attention_2":  # verl's critic loader asks for flash_attention_2 (verl_attention)
        from medo1.integrations.verl_attention import HOOK

        lines.append(f"+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook={hydra_value(HOOK)}")
    if api_judge:
        lines += [f"+reward.max_concurrent={limits['concurrent']}", f"+reward.max_rpm={hydra_value(limits['rpm'])}",
                  f"+reward.max_tpm={hydra_value(limits['tpm'])}", f"+reward.timeout={float(s.judge_timeout)}"]
    return Plan(lines + list(s.overrides), notes)


def build_overrides(job: VerlJob, given: Mapping[str, Any] | None = None,
                    settings: VerlSettings | None = None) -> list[str]:
    """The Hydra overrides of `plan` (the notes left out)."""
    return plan(job, given, settings).overrides


def compose(overrides: list[str]):
    """verl's `ppo_trainer` config with `overrides`, checked as `verl.trainer.main_ppo` checks it before
    it starts Ray (an unknown key, a bad value or inconsistent batch sizes raise Medo1Error)."""
    if importlib.util.find_spec("verl") is None:
        raise Medo1Error("rl.engine verl needs verl: pip install -e \".[verl]\" (in its own environment; "
                         "see README, 'Laptop (our PPO) vs cluster (verl)')")
    import verl
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            config = hydra_compose(config_name="ppo_trainer", overrides=list(overrides))
        with contextlib.redirect_stdout(sys.stderr):  # verl prints its verdict; stdout may be a launch script
            validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    except Exception as err:  # Hydra, OmegaConf and verl's checks raise many kinds; the message is what counts
        message = " ".join(str(err).split())
        raise Medo1Error(f"verl config: {type(err).__name__}: {message}") from None
    finally:
        GlobalHydra.instance().clear()
    return config
