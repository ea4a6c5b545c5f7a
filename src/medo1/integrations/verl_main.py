"""`python -m medo1.integrations.verl_main <verl overrides>`: verl's `main_ppo`, with the judge's secrets handed to
the reward workers on every node through Ray, never through a command line, a config or a log.

verl's own entry prints its `ray.init` arguments and, from its task runner, the whole resolved config, and
Ray's runtime-environment agent logs every runtime environment it creates, environment variables included
(`runtime_env_agent.log`, on each node): a key put in any of them lands in a log. So this entry composes and
checks the config as `main_ppo` does, starts Ray itself with verl's runtime environment (`get_ppo_ray_runtime_env`
merged with `ray_kwargs.ray_init`, as `run_ppo` builds it), and puts the judge's environment variables, read
from this process, in a named Ray actor (`JUDGE_ENV_ACTOR`) that each reward worker asks once
(medo1.integrations.verl_reward); then it hands over to verl's `run_ppo`, which finds Ray started and goes on.
Under a multi-node launch Ray already runs across the nodes (RAY_ADDRESS) and `ray.init` joins it.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping

from omegaconf import OmegaConf

from medo1.errors import Medo1Error
from medo1.integrations.verl_overrides import compose
from medo1.integrations.verl_reward import JUDGE_ENV, JUDGE_ENV_ACTOR
from medo1.integrations.verl_settings import is_api_judge

_HOLDER: list[Any] = []  # the judge's actor handle, kept for the life of the run


def judge_env(config, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The judge's environment variables that are set here (none unless the verifier is an API judge)."""
    kwargs = OmegaConf.select(config, "reward.custom_reward_function.reward_kwargs", default=None) or {}
    if not is_api_judge(str(kwargs.get("verifier", ""))):
        return {}
    return {name: environ[name] for name in JUDGE_ENV if environ.get(name)}


def ray_init_kwargs(config) -> dict[str, Any]:
    """`ray.init` arguments as verl's `run_ppo` builds them."""
    from verl.trainer.constants_ppo import get_ppo_ray_runtime_env

    default_env = get_ppo_ray_runtime_env(config)
    if config.transfer_queue.enable:
        default_env.setdefault("env_vars", {})["TRANSFER_QUEUE_ENABLE"] = "1"
    ray_init = OmegaConf.to_container(config.ray_kwargs.get("ray_init", {}), resolve=True)
    runtime_env = OmegaConf.to_container(OmegaConf.merge(default_env, ray_init.get("runtime_env", {})), resolve=True)
    return {**ray_init, "runtime_env": runtime_env}


def _determinism_env(config) -> None:
    """What verl's `run_ppo` puts in this process's environment before it starts Ray (for the runtime env)."""
    rollout, rm_rollout = config.actor_rollout_ref.rollout, config.reward.reward_model.rollout
    if rollout.full_determinism or (config.reward.reward_model.enable and rm_rollout.full_determinism):
        os.environ.update(VERL_FULL_DETERMINISM="1", VLLM_BATCH_INVARIANT="1", PYTHONHASHSEED=str(rollout.seed))
    loggers = config.trainer.get("logger", [])
    if "rl_insight" in ([loggers] if isinstance(loggers, str) else loggers or []):
        os.environ["VERL_RL_INSIGHT_ENABLE"] = "1"


def start_ray(config, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Start (or join) Ray with verl's runtime environment, then hand the judge's environment to a named actor
    for the reward workers. Returns the `ray.init` arguments (which hold no secret)."""
    import ray

    _determinism_env(config)
    kwargs = ray_init_kwargs(config)
    print(f"medo1: ray init kwargs: {kwargs}", flush=True)
    if not ray.is_initialized():
        ray.init(**kwargs)
    env = judge_env(config, environ)
    if env:
        holder = ray.remote(num_cpus=0)(JudgeEnv).options(name=JUDGE_ENV_ACTOR).remote(env)
        _HOLDER.append(holder)
        print(f"medo1: the judge's {', '.join(sorted(env))} reach the reward workers through Ray", flush=True)
    return kwargs


class JudgeEnv:
    """A Ray actor holding the judge's environment variables in memory."""

    def __init__(self, env: dict[str, str]):
        self.env = dict(env)

    def get(self) -> dict[str, str]:
        return self.env


def main(argv: list[str] | None = None) -> None:
    from verl.trainer.main_ppo import TaskRunnerV1, run_ppo
    from verl.utils.device import auto_set_device

    try:
        config = compose(sys.argv[1:] if argv is None else argv)  # as main_ppo: composed, then validate_config
    except Medo1Error as err:
        raise SystemExit(f"medo1: {err}") from None
    auto_set_device(config)
    start_ray(config)
    if config.trainer.use_v1:
        run_ppo(config, task_runner_class=TaskRunnerV1)
    else:
        from verl.trainer.main_ppo_v0 import TaskRunner

        run_ppo(config, task_runner_class=TaskRunner)


if __name__ == "__main__":
    main()
