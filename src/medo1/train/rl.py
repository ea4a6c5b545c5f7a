"""The RL stage, decided once: which trainer runs an algorithm on an engine. `medo1 rl`, the pipeline's
rl stage and `python -m` all come through `train_rl`.

    algo   engine ours (this machine)                engine verl (a Ray cluster)
    ppo    medo1.train.ppo (torch + accelerate)       verl's PPO (vLLM rollouts, FSDP)
    grpo   TRL's GRPOTrainer                          verl's GRPO
    rloo   TRL's RLOOTrainer                          -
    dpo    verified pairs, then TRL's DPOTrainer      -

Settings come as `given`: the fields of the algorithm's settings dataclass (medo1.train.rl_config) that
were set (a value of None is "not given": the dataclass default, or verl's where it has its own). A
setting the chosen algorithm or engine does not have is refused with one line, never ignored.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error
from medo1.train.rl_config import PPOConfig, TRLRLSettings

ENGINES: dict[str, tuple[str, ...]] = {"ppo": ("ours", "verl"), "grpo": ("ours", "verl"), "rloo": ("ours",),
                                       "dpo": ("ours",)}
ALGOS = tuple(ENGINES)


def settings_class(algo: str) -> type:
    """The settings dataclass of an algorithm: PPOConfig (ppo) or TRLRLSettings (grpo, rloo, dpo)."""
    check_pair(algo, "ours")
    return PPOConfig if algo == "ppo" else TRLRLSettings


def check_pair(algo: str, engine: str) -> None:
    if algo not in ENGINES:
        raise Medo1Error(f"rl algo {algo!r}: expected one of {', '.join(ALGOS)}")
    if engine not in ENGINES[algo]:
        on = [a for a, engines in ENGINES.items() if engine in engines]
        raise Medo1Error(f"rl engine {engine!r} runs {' or '.join(on) or 'nothing'}; algo {algo} runs on engine "
                         f"{' or '.join(ENGINES[algo])}")


def given_settings(algo: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The given (not None) settings, checked to be fields of the algorithm's settings."""
    cls = settings_class(algo)
    names = {f.name for f in dataclasses.fields(cls)}
    out = {k: v for k, v in given.items() if v is not None}
    if unknown := sorted(k for k in out if k not in names and k != "algo"):
        others = [a for a in ALGOS if a != algo and all(k in {f.name for f in dataclasses.fields(settings_class(a))}
                                                          for k in unknown)]
        where = f" (settings of {', '.join(others)})" if others else ""
        raise Medo1Error(f"rl {algo}: no setting {', '.join(unknown)}{where}")
    return out


def rl_settings(algo: str, given: Mapping[str, Any]) -> PPOConfig | TRLRLSettings:
    """The algorithm's settings dataclass: what was given over its defaults."""
    cls = settings_class(algo)
    values = given_settings(algo, given)
    values.pop("algo", None)
    return cls(**values, algo=algo) if cls is TRLRLSettings else cls(**values)


def train_rl(algo: str, engine: str, given: Mapping[str, Any], *, verl: Any = None, print_launch: bool = False,
             fresh: bool = False, **job: Any) -> Path | str:
    """Run the RL stage: `algo` on `engine` with the `given` settings (problems, model and out among them).
    `verl` (VerlSettings), `print_launch` and `fresh` are verl's, and `job` the verl reward workers' (lang,
    prompts, cache, concurrency, run_name). Returns the output directory (or verl's launch script)."""
    check_pair(algo, engine)
    if engine == "verl":
        from medo1.integrations.verl_launch import run_verl
        from medo1.integrations.verl_settings import VerlSettings

        given = dict(given)
        problems, model, out = (given.pop(k) for k in ("problems", "model", "out"))
        verifier = given.pop("verifier", None) or "match"
        return run_verl(problems, model, out, print_launch=print_launch, algo=algo, ppo=given,
                        settings=verl or VerlSettings(), verifier=verifier, fresh=fresh,
                        resume=bool(given.pop("resume", False)), **job)
    if print_launch or fresh or verl is not None:
        refused = [name for name, on in (("print_launch", print_launch), ("fresh", fresh), ("verl", verl is not None))
                   if on]
        raise Medo1Error(f"{', '.join(refused)}: only with the verl engine")
    settings = rl_settings(algo, given)
    if algo == "ppo":
        from medo1.train.ppo import train_ppo

        return train_ppo(settings)
    from medo1.train.trl_rl import train_trl_rl

    return train_trl_rl(settings)
