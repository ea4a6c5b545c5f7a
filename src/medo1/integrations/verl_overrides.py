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
import importlib
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error
from medo1.integrations.verl_settings import (
    Plan,
    VerlJob,
    VerlSettings,
    algo_defaults,
    attention,
    is_api_judge,
    judge_limits,
    metrics_path,
    prompts_per_step,
    samples_dir,
    settings_for,
    steps_and_epochs,
    tensorboard_dir,
)

NO_DUAL_CLIP = 1e9  # verl's vanilla loss always applies dual clip at ratio clip_ratio_c (> 1); this never binds
# our lr_scheduler (transformers names) -> verl's FSDP optimizer (constant | cosine)
SCHEDULES = {"linear": "cosine", "cosine": "cosine", "constant": "constant", "constant_with_warmup": "constant"}
VERIFY_SHARE = 0.9  # the verification is cut off at this share of verl's reward timeout


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


def plan(job: VerlJob, given: Mapping[str, Any] | None = None, settings: VerlSettings | None = None) -> Plan:
    """verl Hydra overrides for `job.algo` with medo1's data and reward, and the notes to log."""
    s = settings or VerlSettings()
    p = settings_for(job.algo, given)
    notes: list[str] = []
    grpo = job.algo == "grpo"
    prompts = prompts_per_step(job.algo, p)
    mini_batches = 1 if grpo else int(p["num_mini_batches"])
    if prompts % mini_batches:
        raise Medo1Error(f"rl: batch_size {prompts} must be a multiple of num_mini_batches {mini_batches}")
    steps, epochs = steps_and_epochs(p, job.train_rows, prompts)
    if not grpo and p.get("rollout_batch_size") != algo_defaults("ppo")["rollout_batch_size"]:
        notes.append("verl: rl.rollout_batch_size is not used (vLLM batches the rollout itself)")
    attn = attention(s.attention)
    if attn != "flash_attention_2":
        why = "flash_attn does not import here" if s.attention == "auto" else f"rl.verl.attention is {attn}"
        notes.append(f"verl: {why}: actor, reference and critic use {attn} attention, without remove-padding")
    optim = _optimizer(p, steps, notes)
    model = {"path": job.model, "enable_gradient_checkpointing": bool(p["gradient_checkpointing"]),
             "use_remove_padding": attn == "flash_attention_2"}
    o = {**_data(job, p, prompts), **_actor(p, s, model, optim, prompts // mini_batches, grpo),
         **_critic(job, p, s, model, optim, grpo), **_reward(job, s), **_trainer(job, p, s, steps, epochs)}
    lines = [f"{key}={hydra_value(value)}" for key, value in o.items()]
    return Plan(lines + _added(job, p, s, attn, grpo) + list(s.overrides), notes)


def _optimizer(p: Mapping[str, Any], steps: int, notes: list[str]) -> dict[str, Any]:
    """Our learning-rate schedule and warmup on verl's FSDP optimizer (constant or cosine)."""
    schedule = SCHEDULES.get(p.get("lr_scheduler", "linear"))
    if schedule is None:
        raise Medo1Error(f"rl.lr_scheduler {p['lr_scheduler']!r} has no verl counterpart: use linear, cosine or "
                         "constant")
    if p.get("lr_scheduler", "linear") == "linear":
        notes.append("verl: the learning rate decays as a cosine to 0 over the run (verl's FSDP optimizer has no "
                     "linear decay)")
    return {"lr_scheduler_type": schedule, "min_lr_ratio": 0.0, "num_cycles": 0.5,
            # the warmup steps as our PPO counts them (ceil of ratio x steps, as transformers); -1: none
            "lr_warmup_steps": math.ceil(float(p.get("warmup_ratio") or 0.0) * steps) or -1,
            "lr_warmup_steps_ratio": 0.0,
            "clip_grad": float(p.get("max_grad_norm", 1.0))}


def _data(job: VerlJob, p: Mapping[str, Any], prompts: int) -> dict[str, Any]:
    grpo = job.algo == "grpo"
    return {
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
    }


def _actor(p: Mapping[str, Any], s: VerlSettings, model: dict[str, Any], optim: dict[str, Any], mini_batch: int,
           grpo: bool) -> dict[str, Any]:
    micro = int(p["micro_batch_size"])
    clip = float(p.get("clip_range", 0.2))
    return {
        **{f"actor_rollout_ref.model.{k}": v for k, v in model.items()},
        "actor_rollout_ref.actor.optim.lr": float(p["learning_rate"]),
        **{f"actor_rollout_ref.actor.optim.{k}": v for k, v in optim.items()},
        "actor_rollout_ref.actor.ppo_mini_batch_size": mini_batch,
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
        "actor_rollout_ref.rollout.n": int(p["num_generations"]) if grpo else 1,
        "actor_rollout_ref.rollout.temperature": float(p["temperature"]),
        "actor_rollout_ref.rollout.top_p": 1.0,
        "actor_rollout_ref.rollout.top_k": -1,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": s.tensor_parallel_size,
        "actor_rollout_ref.rollout.gpu_memory_utilization": s.gpu_memory_utilization,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": micro,
    }


def _critic(job: VerlJob, p: Mapping[str, Any], s: VerlSettings, model: dict[str, Any], optim: dict[str, Any],
            grpo: bool) -> dict[str, Any]:
    if grpo:
        return {"critic.enable": False}
    return {
        "critic.model.path": job.value_model or p.get("value_model") or job.model,
        **{f"critic.model.{k}": v for k, v in model.items() if k != "path"},
        "critic.optim.lr": float(s.critic_lr if s.critic_lr is not None else p["learning_rate"]),
        **{f"critic.optim.{k}": v for k, v in optim.items()},
        "critic.ppo_micro_batch_size_per_gpu": int(p["micro_batch_size"]),
        "critic.cliprange_value": float(p["value_clip_range"]),
    }


def _reward(job: VerlJob, s: VerlSettings) -> dict[str, Any]:
    from medo1.integrations import verl_reward

    api_judge = is_api_judge(job.verifier)
    return {
        "reward.custom_reward_function.path": verl_reward.__file__,
        "reward.custom_reward_function.name": "compute_score",
        "reward.reward_manager.name": "rate_limited" if api_judge else "naive",
        "reward.num_workers": judge_limits(s, job.concurrency)["workers"] if api_judge else s.reward_workers,
    }


def _trainer(job: VerlJob, p: Mapping[str, Any], s: VerlSettings, steps: int, epochs: int) -> dict[str, Any]:
    out = Path(job.out)
    save_freq = max(1, int(p["save_steps"]))
    keep = max(1, int(p.get("keep_checkpoints") or 0))
    return {
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
        "trainer.test_freq": (s.test_freq if s.test_freq is not None else save_freq) if job.has_val else -1,
        "trainer.val_before_train": bool(s.val_before_train and job.has_val),
    }


def _added(job: VerlJob, p: Mapping[str, Any], s: VerlSettings, attn: str, grpo: bool) -> list[str]:
    """Keys verl's config does not declare: `+` (new) or `++` (new or replaced, for open dicts)."""
    out = Path(job.out)
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
    lines = [f"++actor_rollout_ref.model.override_config.attn_implementation={attn}"]
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
    return lines


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
