"""Training commands: sft, rl. Their options are the fields of the trainers' settings dataclasses
(medo1.train.config, medo1.train.rl_config, verl's VerlSettings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import typer

from medo1.cli.app import command, config_command
from medo1.errors import Medo1Error
from medo1.integrations.verl_settings import VerlSettings
from medo1.settings import flag, given, union_options
from medo1.train.config import SFTSettings
from medo1.train.rl import ALGOS
from medo1.train.rl_config import PPOConfig, TRLRLSettings


@config_command(SFTSettings)
def sft(settings: SFTSettings):
    """Stage 2: supervised fine-tuning on complex CoT (TRL SFTTrainer, loss on the assistant turn)."""
    from medo1.train.sft import train_sft

    typer.echo(f"sft: model saved to {train_sft(settings)}")


_RL_CLASSES = {"ppo": PPOConfig, "grpo, rloo, dpo": TRLRLSettings, "verl": VerlSettings}
_RL_OPTIONS = union_options(_RL_CLASSES, skip=("algo", "problems", "model", "out"))
_CONVERTERS = {cf.name: cf for _, cf in _RL_OPTIONS}
_VERL_NAMES = {f.name for f in VerlSettings.__dataclass_fields__.values()}


@command(_RL_OPTIONS, name="rl")
def rl(
    problems: str = typer.Option(..., "--problems", help="RL problems (.jsonl/.json, ours or medical-o1) or a HF "
                                 "dataset id."),
    model: str = typer.Option(..., "--model", help="The SFT model: a checkpoint directory, hf:<path-or-repo> or "
                              "embedded."),
    out: Path = typer.Option(..., "--out", help="Output directory: model, checkpoints, metrics.jsonl."),
    algo: Literal[ALGOS] = typer.Option("ppo", "--algo", help="ppo (ours) | grpo | rloo (TRL) | dpo (verified pairs "
                                        "+ TRL)."),
    engine: Literal["ours", "verl"] = typer.Option(
        "ours", "--engine", help="ours (this machine: our PPO, TRL) | verl (Ray, vLLM, FSDP; ppo and grpo)."),
    fresh: bool = typer.Option(False, "--fresh", help="verl: start over (an earlier attempt is moved aside)."),
    print_launch: bool = typer.Option(False, "--print-launch", help="verl: write the data, validate, print the "
                                      "launch script for a cluster scheduler and start nothing."),
    **values: Any,
):
    """Stage 3: reinforcement learning with the verifier reward (PPO, GRPO, RLOO, DPO; ours, TRL or verl).
    Settings not given take the chosen algorithm's defaults, shown per algorithm."""
    from medo1.train.rl import train_rl

    settings = given(values, _CONVERTERS, set(values) - _VERL_NAMES)
    verl = given(values, _CONVERTERS, _VERL_NAMES)
    verl_only = [name for name, on in (("fresh", fresh), ("print_launch", print_launch)) if on] + sorted(verl)
    if engine != "verl" and verl_only:
        raise Medo1Error(f"{', '.join(flag(name) for name in verl_only)}: only with --engine verl")
    paths = {"problems": problems, "model": model, "out": str(out)}
    done = train_rl(algo, engine, {**settings, **paths}, verl=VerlSettings(**verl) if engine == "verl" else None,
                    print_launch=print_launch, fresh=fresh, **({"run_name": out.name} if engine == "verl" else {}))
    if print_launch:
        typer.echo(done)
    else:
        typer.echo(f"rl ({algo}{' on verl' if engine == 'verl' else ''}): model saved to {done}")
