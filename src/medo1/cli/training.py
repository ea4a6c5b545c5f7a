"""Training commands: sft, passrate (the RL problems chosen by the SFT policy's pass rate), rl. Their options
are the fields of the settings dataclasses (medo1.train.config, medo1.passrate, medo1.train.rl_config, verl's
VerlSettings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, command, config_command
from medo1.errors import Medo1Error
from medo1.integrations.verl_settings import VerlSettings
from medo1.passrate import PassRateConfig
from medo1.settings import flag, given, union_options
from medo1.train.config import SFTSettings
from medo1.train.rl import ALGOS
from medo1.train.rl_config import PPOConfig, TRLRLSettings


@config_command(SFTSettings)
def sft(settings: SFTSettings):
    """Stage 2: supervised fine-tuning on complex CoT (TRL SFTTrainer, loss on the assistant turn)."""
    from medo1.train.sft import train_sft

    typer.echo(f"sft: model saved to {train_sft(settings)}")


@config_command(PassRateConfig, skip=("enabled",))
def passrate(
    cfg: PassRateConfig,
    model: str = typer.Option(..., "--model", help="The policy RL starts from: a checkpoint directory, hf:<path>, "
                              "embedded, or openai:NAME@URL (a vLLM server)."),
    problems: Path = typer.Option(..., "--problems", help="RL problems (.jsonl/.json, ours or medical-o1)."),
    out: Path = typer.Option(..., "--out", help="Output JSONL: each problem's pass count (resumable); problems that "
                             "failed go to <out>.failed.jsonl."),
    selected: Optional[Path] = typer.Option(None, "--selected", help="Where the problems kept go (default: "
                                            "<out>.selected.jsonl): the RL problems."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Between sft and rl: sample the policy K times per problem, count what the run's verifier passes, and keep
    the problems it solves sometimes (all-solved and never-solved ones give GRPO no signal)."""
    from medo1.passrate import passrate_file, selected_path

    summary = passrate_file(problems, out, cfg, model=model, selected=selected, concurrency=concurrency,
                            cache=not no_cache)
    typer.echo("passrate:\n  " + "\n  ".join(summary.lines()) + f"\n  -> {out}, {selected or selected_path(out)}")


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
