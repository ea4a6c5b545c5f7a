"""The paper's PPO on verl: medo1's PPO settings as verl Hydra overrides, composed and validated with
verl's own `ppo_trainer` config before anything starts, then run (`python -m verl.trainer.main_ppo`)
or printed for a cluster scheduler.

    medo1 rl --engine verl --problems rl.jsonl --model ckpt/sft --out ckpt/rl --n-gpus-per-node 8
    medo1 rl --engine verl ... --print-launch        # write the data, print the command, start nothing

How the paper's PPO maps onto verl (our PPOConfig field -> verl key):
    GAE with a critic          algorithm.adv_estimator=gae, gamma, lam
    KL to the SFT model        algorithm.use_kl_in_reward=True, kl_ctrl fixed, kl_coef 0.03 (per token, in the
                               reward, as in our PPO; actor.use_kl_loss=False)
    clip_range 0.2             actor.clip_ratio; value_clip_range -> critic.cliprange_value
    learning_rate 5e-7         actor.optim.lr (critic.optim.lr too unless `critic_lr` is set)
    ppo_epochs 3, batch 128    actor.ppo_epochs (the critic follows), data.train_batch_size,
                               ppo_mini_batch_size = batch_size / num_mini_batches
    temperature 0.5, 1300      rollout.temperature (top_p 1, top_k off), data.max_response_length
    rollout on vLLM            rollout.name=vllm, one response per problem (rollout.n=1)
    the reward                 reward.custom_reward_function -> medo1.integrations.verl_reward.compute_score,
                               verifier settings in its reward_kwargs; an API judge selects verl's
                               `rate_limited` reward manager
Not carried over: `vf_coef` (verl's critic has its own optimizer), `whiten_rewards` and
`missing_eos_penalty` (verl has no such option), `micro_batch_size` becomes the per-GPU micro batch.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error

ENTRY = "verl.trainer.main_ppo"


@dataclass
class VerlSettings:
    """Where and how verl runs the PPO stage; the PPO settings themselves are the `rl` section's."""

    nnodes: int = field(default=1, metadata={"help": "Nodes of the Ray cluster (trainer.nnodes)."})
    n_gpus_per_node: int = field(default=8, metadata={"help": "GPUs per node (trainer.n_gpus_per_node)."})
    rollout: str = field(default="vllm", metadata={"help": "Rollout engine: vllm or sglang."})
    tensor_parallel_size: int = field(default=1, metadata={"help": "Rollout tensor parallel size (8B: 1 or 2)."})
    gpu_memory_utilization: float = field(default=0.5, metadata={"help": "Share of GPU memory the rollout engine "
                                                                         "takes (it shares the GPUs with training)."})
    critic_lr: float | None = field(default=None, metadata={"help": "Critic learning rate (default: the policy's)."})
    val_size: int = field(default=64, metadata={"help": "Problems held out for validation (at most a tenth)."})
    test_freq: int = field(default=-1, metadata={"help": "Steps between validations (-1: none)."})
    val_before_train: bool = field(default=False, metadata={"help": "Validate once before the first step."})
    logger: list[str] = field(default_factory=lambda: ["console", "file"],
                              metadata={"help": "verl loggers; `file` feeds medo1's metrics and report."})
    judge_max_concurrent: int = field(default=64, metadata={"help": "API judge: requests in flight per reward "
                                                                    "worker (verl's rate_limited manager)."})
    judge_max_rpm: int | None = field(default=None, metadata={"help": "API judge: requests per minute (None: no cap)."})
    judge_max_tpm: int | None = field(default=None, metadata={"help": "API judge: tokens per minute (None: no cap)."})
    judge_timeout: float = field(default=300.0, metadata={"help": "API judge: seconds per reward before it counts 0."})
    overrides: list[str] = field(default_factory=list,
                                 metadata={"help": "More verl Hydra overrides (key=value), applied last."})


@dataclass
class VerlJob:
    """Everything one verl PPO run needs, resolved to paths."""

    train_files: str
    val_files: str
    model: str  # a local HF checkpoint directory (the SFT model)
    out: str  # medo1's RL output directory; verl's checkpoints go to <out>/verl
    run_name: str = "run"
    verifier: str = "match"
    value_model: str | None = None
    lang: str = "en"
    prompts: str | None = None
    cache: str | bool = True
    concurrency: int = 32
    has_val: bool = False


def metrics_path(out: str | Path) -> str:
    """Where verl's `file` logger writes (it truncates the file when it starts: see `keep_metrics`)."""
    return str(Path(out) / "verl" / "metrics.jsonl")


def keep_metrics(out: str | Path) -> None:
    """Move an earlier attempt's verl metrics aside before verl (resuming) truncates them."""
    import time

    path = Path(metrics_path(out))
    if path.exists() and path.stat().st_size:
        path.replace(path.with_name(f"metrics.{time.time_ns()}.jsonl"))


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


def ppo_defaults() -> dict[str, Any]:
    """Our PPO's settings with their documented defaults (the paper's)."""
    import dataclasses

    from medo1.train.ppo import PPOConfig

    return {f.name: f.default for f in dataclasses.fields(PPOConfig) if f.default is not dataclasses.MISSING}


def build_overrides(job: VerlJob, ppo: Mapping[str, Any] | None = None,
                    settings: VerlSettings | None = None) -> list[str]:
    """verl Hydra overrides for the paper's PPO with medo1's data and reward; `ppo` holds PPOConfig
    fields (missing ones take their defaults)."""
    from medo1.integrations import verl_reward

    p = {**ppo_defaults(), **(ppo or {})}
    s = settings or VerlSettings()
    if p["batch_size"] % p["num_mini_batches"]:
        raise Medo1Error(f"rl: batch_size {p['batch_size']} must be a multiple of num_mini_batches "
                         f"{p['num_mini_batches']}")
    api_judge = is_api_judge(job.verifier)
    out = Path(job.out)
    kwargs = {"verifier": job.verifier, "lang": job.lang, "prompts": job.prompts, "cache": job.cache,
              "concurrency": s.judge_max_concurrent if api_judge else job.concurrency,
              "failed_path": str(out / "verl.failed.jsonl")}
    o: dict[str, Any] = {
        "algorithm.adv_estimator": "gae",
        "algorithm.gamma": float(p["gamma"]),
        "algorithm.lam": float(p["lam"]),
        "algorithm.use_kl_in_reward": True,
        "algorithm.kl_penalty": "kl",
        "algorithm.kl_ctrl.type": "fixed",
        "algorithm.kl_ctrl.kl_coef": float(p["kl_coef"]),
        "data.train_files": job.train_files,
        "data.val_files": job.val_files,
        "data.prompt_key": "prompt",
        "data.max_prompt_length": int(p["max_prompt_length"]),
        "data.max_response_length": int(p["max_new_tokens"]),
        "data.train_batch_size": int(p["batch_size"]),
        "data.filter_overlong_prompts": True,  # like our PPO: problems with longer prompts are left out
        "data.truncation": "error",
        "data.seed": int(p["seed"]),
        "actor_rollout_ref.model.path": job.model,
        "actor_rollout_ref.model.enable_gradient_checkpointing": bool(p["gradient_checkpointing"]),
        "actor_rollout_ref.actor.optim.lr": float(p["learning_rate"]),
        "actor_rollout_ref.actor.optim.lr_warmup_steps": int(p["warmup_steps"]) or -1,
        "actor_rollout_ref.actor.optim.clip_grad": float(p["max_grad_norm"]),
        "actor_rollout_ref.actor.ppo_mini_batch_size": int(p["batch_size"]) // int(p["num_mini_batches"]),
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": int(p["micro_batch_size"]),
        "actor_rollout_ref.actor.ppo_epochs": int(p["ppo_epochs"]),
        "actor_rollout_ref.actor.clip_ratio": float(p["clip_range"]),
        "actor_rollout_ref.actor.use_kl_loss": False,
        "actor_rollout_ref.actor.entropy_coeff": 0.0,
        "actor_rollout_ref.rollout.name": s.rollout,
        "actor_rollout_ref.rollout.n": 1,
        "actor_rollout_ref.rollout.temperature": float(p["temperature"]),
        "actor_rollout_ref.rollout.top_p": 1.0,
        "actor_rollout_ref.rollout.top_k": -1,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": s.tensor_parallel_size,
        "actor_rollout_ref.rollout.gpu_memory_utilization": s.gpu_memory_utilization,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": int(p["micro_batch_size"]),
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": int(p["micro_batch_size"]),
        "critic.model.path": job.value_model or p.get("value_model") or job.model,
        "critic.model.enable_gradient_checkpointing": bool(p["gradient_checkpointing"]),
        "critic.optim.lr": float(s.critic_lr if s.critic_lr is not None else p["learning_rate"]),
        "critic.optim.lr_warmup_steps": int(p["warmup_steps"]) or -1,
        "critic.optim.clip_grad": float(p["max_grad_norm"]),
        "critic.ppo_micro_batch_size_per_gpu": int(p["micro_batch_size"]),
        "critic.cliprange_value": float(p["value_clip_range"]),
        "reward.custom_reward_function.path": verl_reward.__file__,
        "reward.custom_reward_function.name": "compute_score",
        "reward.reward_manager.name": "rate_limited" if api_judge else "naive",
        "trainer.nnodes": s.nnodes,
        "trainer.n_gpus_per_node": s.n_gpus_per_node,
        "trainer.project_name": "medo1",
        "trainer.experiment_name": job.run_name,
        "trainer.default_local_dir": str(out / "verl"),
        "trainer.rollout_data_dir": str(out / "verl" / "rollouts"),  # per-step correct and format rates
        "trainer.logger": list(s.logger),
        "trainer.total_epochs": max(1, math.ceil(float(p["epochs"]))),
        "trainer.total_training_steps": int(p["max_steps"]) if int(p["max_steps"]) > 0 else None,
        "trainer.save_freq": int(p["save_steps"]),  # verl also saves at the last step when save_freq > 0
        "trainer.max_actor_ckpt_to_keep": max(1, int(p.get("keep_checkpoints") or 0)),
        "trainer.max_critic_ckpt_to_keep": max(1, int(p.get("keep_checkpoints") or 0)),
        "trainer.resume_mode": "auto",
        "trainer.test_freq": s.test_freq if job.has_val else -1,
        "trainer.val_before_train": bool(s.val_before_train and job.has_val),
    }
    lines = [f"{key}={hydra_value(value)}" for key, value in o.items()]
    # Keys verl's config does not declare are added with '+'.
    lines += [f"+reward.custom_reward_function.reward_kwargs.{k}={hydra_value(v)}" for k, v in kwargs.items()]
    # verl's file logger runs in a Ray actor, maybe on another node: the path goes through Ray's runtime env
    lines.append(f"+ray_kwargs.ray_init.runtime_env.env_vars.VERL_FILE_LOGGER_PATH={hydra_value(metrics_path(out))}")
    if api_judge:
        lines += [f"+reward.max_concurrent={s.judge_max_concurrent}", f"+reward.max_rpm={hydra_value(s.judge_max_rpm)}",
                  f"+reward.max_tpm={hydra_value(s.judge_max_tpm)}", f"+reward.timeout={float(s.judge_timeout)}"]
    return lines + list(s.overrides)


def compose(overrides: list[str]):
    """verl's `ppo_trainer` config with `overrides`, checked as `verl.trainer.main_ppo` checks it before
    it starts Ray (an unknown key, a bad value or inconsistent batch sizes raise Medo1Error)."""
    try:
        import verl  # noqa: F401
    except ImportError:
        raise Medo1Error("rl.engine verl needs verl: pip install -e \".[verl]\" (in its own environment; "
                         "see README, 'Laptop (our PPO) vs cluster (verl)')") from None
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    config_dir = Path(sys.modules["verl"].__file__).parent / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            config = hydra_compose(config_name="ppo_trainer", overrides=list(overrides))
        validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    except Exception as err:  # Hydra, OmegaConf and verl's checks raise many kinds; the message is what counts
        message = " ".join(str(err).split())
        raise Medo1Error(f"verl config: {type(err).__name__}: {message}") from None
    finally:
        GlobalHydra.instance().clear()
    return config


def launch_command(overrides: list[str], python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", ENTRY, *overrides]


def shell_command(command: list[str]) -> str:
    """The command as one shell line, one override per line (for a scheduler script)."""
    head = " ".join(shlex.quote(c) for c in command[:3])
    return " \\\n    ".join([head, *(shlex.quote(c) for c in command[3:])])


# ---------------------------------------------------------------- running


def prepare(problems: str, model: str, out: str | Path, *, ppo: Mapping[str, Any] | None = None,
            settings: VerlSettings | None = None, run_name: str = "run", verifier: str = "match", lang: str = "en",
            prompts: str | None = None, cache: str | bool = True, concurrency: int = 32,
            python: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Write verl's data under `<out>/verl_data`, build the overrides and validate them with verl's
    config. Returns the command and the environment variables it needs."""
    from medo1.integrations.verl_data import write_verl_data
    from medo1.train.common import resolve_model_path
    from medo1.train.data import load_problems

    s = settings or VerlSettings()
    p = {**ppo_defaults(), **(ppo or {})}
    out = Path(out).resolve()
    data = write_verl_data(load_problems(problems), out / "verl_data", run_name=run_name, val_size=s.val_size,
                           seed=int(p["seed"]), style="model" if verifier.startswith("judge:") else "rule")

    def local(spec: str) -> str:  # Ray workers on other nodes, other working directories: absolute paths
        path = resolve_model_path(spec)
        return str(Path(path).resolve()) if Path(path).exists() else path

    value_model = p.get("value_model")
    job = VerlJob(train_files=str(data.train), val_files=str(data.val), model=local(model),
                  out=str(out), run_name=run_name, verifier=verifier,
                  value_model=local(value_model) if value_model else None, lang=lang,
                  prompts=str(Path(prompts).resolve()) if prompts else None,
                  cache=str(Path(cache).resolve()) if isinstance(cache, (str, Path)) else cache,
                  concurrency=concurrency, has_val=data.val_rows > 0)
    overrides = build_overrides(job, p, s)
    compose(overrides)
    return launch_command(overrides, python), {"VERL_FILE_LOGGER_PATH": metrics_path(out)}


def launch_script(command: list[str], env: dict[str, str], out: str | Path) -> str:
    """A shell script for a cluster scheduler: verl's PPO, then the Hugging Face conversion and metrics."""
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
    metrics = metrics_path(Path(out).resolve())
    exports += (f"\nif [ -s {shlex.quote(metrics)} ]; then  # a resumed run keeps the metrics of earlier attempts\n"
                f"  mv {shlex.quote(metrics)} {shlex.quote(metrics[:-len('.jsonl')])}.\"$(date +%s%N)\".jsonl\nfi")
    finish = " ".join(shlex.quote(c) for c in [command[0], "-m", "medo1.integrations.verl_launch", "finish",
                                                str(Path(out).resolve())])
    return f"#!/usr/bin/env bash\n# medo1: the RL stage on verl (PPO)\nset -euo pipefail\n{exports}\n" \
           f"{shell_command(command)}\n{finish}\n"


def finish(out: str | Path, python: str | None = None) -> dict[str, Any]:
    """verl's last actor checkpoint -> a Hugging Face checkpoint in `out`; metrics -> `out/metrics.jsonl`."""
    from medo1.integrations.verl_ckpt import convert_checkpoint, import_metrics, latest_step_dir

    out = Path(out)
    step_dir = latest_step_dir(out / "verl")
    if step_dir is None:
        raise Medo1Error(f"{out / 'verl'}: verl saved no checkpoint (trainer.save_freq must be > 0)")
    convert_checkpoint(step_dir / "actor", out, python=python)
    steps = import_metrics(out / "verl", out)
    summary = {"engine": "verl", "checkpoint": str(step_dir), "steps": steps}
    (out / "medo1_verl.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run_verl_ppo(problems: str, model: str, out: str | Path, *, print_launch: bool = False, **kwargs: Any):
    """The RL stage on verl: prepare and validate, then run verl and convert its checkpoint (returns the
    output directory), or with `print_launch` write `<out>/verl_launch.sh` and return its text."""
    import os
    import subprocess

    out = Path(out)
    command, env = prepare(problems, model, out, **kwargs)
    script = launch_script(command, env, out)
    (out / "verl_launch.sh").write_text(script, encoding="utf-8")
    if print_launch:
        return script
    keep_metrics(out)
    done = subprocess.run(command, env={**os.environ, **env})
    if done.returncode != 0:
        raise Medo1Error(f"verl PPO failed (exit {done.returncode}); the command is in {out / 'verl_launch.sh'}, "
                         "re-running it resumes from verl's last checkpoint")
    finish(out, python=command[0])
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.integrations.verl_launch finish OUT`: convert and import after a verl run."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "finish":
        raise SystemExit("usage: python -m medo1.integrations.verl_launch finish OUT")
    print(json.dumps(finish(args[1]), indent=2))


if __name__ == "__main__":
    main()
