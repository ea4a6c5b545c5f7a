"""Commands that make and check data: curate, split, decontaminate."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, config_command
from medo1.curate import CurateConfig
from medo1.decontaminate import DecontaminateConfig
from medo1.split import SplitConfig


@config_command(CurateConfig)
def curate(
    cfg: CurateConfig,
    input: Path = typer.Option(..., "--input", help="MCQ file (.jsonl or .json): ours, MedQA or MedMCQA fields."),
    out: Path = typer.Option(..., "--out", help="Output problems.jsonl (rejected ones go to problems.rejected.jsonl)."),
    teacher: str = typer.Option("embedded", "--teacher", help="Model spec of the LLM filter and rewrite."),
    difficulty_models: Optional[str] = typer.Option(
        None, "--difficulty-models", help="Comma-separated model specs; questions all of them answer are dropped."),
    cop_base: Optional[int] = typer.Option(None, "--cop-base", min=0, max=1,
                                           help="MedMCQA cop counts from 0 (hub release) or 1 (original release); "
                                                "default: detected per file."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run rejected questions again."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 0: turn MCQs into open-ended verifiable problems."""
    from medo1.curate import curate_file

    specs = [s.strip() for s in (difficulty_models or "").split(",") if s.strip()]
    summary = curate_file(input, out, cfg, teacher=teacher, difficulty_models=specs, concurrency=concurrency,
                          cache=not no_cache, retry_failed=retry_failed, cop_base=cop_base)
    dropped = ", ".join(f"{stage} {n}" for stage, n in summary.dropped.items())
    typer.echo(f"curate: {summary.kept} problems kept of {summary.input} questions "
               f"(dropped: {dropped}; errors {summary.errors}; done earlier {summary.skipped}) -> {out}")


@config_command(SplitConfig, name="split")
def split_(
    cfg: SplitConfig,
    problems: Path = typer.Option(..., "--problems", help="Problems file."),
    search_out: Path = typer.Option(..., "--search-out", help="Output: problems for search and SFT."),
    rl_out: Path = typer.Option(..., "--rl-out", help="Output: problems for RL."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffle."),
):
    """Split problems into a search/SFT part and an RL part (seeded)."""
    from medo1.split import split_file

    n_search, n_rl = split_file(problems, search_out, rl_out, rl_fraction=cfg.rl_fraction, seed=seed)
    typer.echo(f"split: {n_search} -> {search_out}, {n_rl} -> {rl_out}")


@config_command(DecontaminateConfig, skip=("enabled",))
def decontaminate(
    cfg: DecontaminateConfig,
    input: Path = typer.Option(..., "--input", help="Records to clean (MCQs, problems, traces or SFT examples)."),
    out: Path = typer.Option(..., "--out", help="Output file; dropped items go to <out>.contaminated.jsonl."),
    against: list[Path] = typer.Option(..., "--against", help="Evaluation file(s); repeat the option for more."),
    show: int = typer.Option(20, "--show", min=0, help="How many dropped items to list."),
):
    """Drop items sharing a 64-character span with an evaluation set (the Med-PaLM 2 rule)."""
    from medo1.decontaminate import decontaminate_file, dropped_path

    report = decontaminate_file(input, out, against, n=cfg.span)
    typer.echo(f"decontaminate: dropped {len(report.dropped)} of {report.input} items, kept {report.kept} -> {out}")
    for item in report.dropped[:show]:
        typer.echo(f"  {item['id']}: {item['reason']}: {item['span']!r}")
    if len(report.dropped) > show:
        typer.echo(f"  ... and {len(report.dropped) - show} more")
    if report.dropped:
        typer.echo(f"  all of them: {dropped_path(out)}")
