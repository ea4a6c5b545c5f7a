"""The `medo1` command line: one subcommand per stage. Commands only parse and delegate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from medo1.errors import Medo1Error

app = typer.Typer(
    name="medo1",
    help="Turn a bank of multiple-choice exam questions into an LLM that reasons before it answers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Options shared by every command that calls models.
ConcurrencyOpt = typer.Option(32, "--concurrency", min=1, help="Model requests in flight at once (hf: batch size).")
NoCacheOpt = typer.Option(False, "--no-cache", help="Do not read or write the request cache.")


def _not_available(stage: str) -> None:
    raise Medo1Error(f"`medo1 {stage}` is not available yet in this version of medo1")


@app.command()
def curate(
    input: Path = typer.Option(..., "--input", help="MCQ file (.jsonl or .json): ours, MedQA or MedMCQA fields."),
    out: Path = typer.Option(..., "--out", help="Output problems.jsonl (rejected ones go to problems.rejected.jsonl)."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 0: turn MCQs into open-ended verifiable problems."""
    _not_available("curate")


@app.command()
def search(
    problems: Path = typer.Option(..., "--problems", help="Problems file."),
    out: Path = typer.Option(..., "--out", help="Output traces.jsonl."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Stage 1: verifier-guided search for a correct reasoning trajectory per problem."""
    _not_available("search")


@app.command()
def sft(
    data: Path = typer.Option(..., "--data", help="SFT examples."),
    model: str = typer.Option(..., "--model", help="Base model spec or path."),
    out: Path = typer.Option(..., "--out", help="Output checkpoint directory."),
):
    """Stage 2: supervised fine-tuning on complex CoT."""
    _not_available("sft")


@app.command()
def rl(
    problems: Path = typer.Option(..., "--problems", help="RL problems file."),
    model: str = typer.Option(..., "--model", help="SFT checkpoint."),
    out: Path = typer.Option(..., "--out", help="Output checkpoint directory."),
):
    """Stage 3: reinforcement learning with the verifier reward (PPO, RLOO, GRPO, DPO)."""
    _not_available("rl")


@app.command("eval")
def eval_(
    model: str = typer.Option(..., "--model", help="Model spec."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Evaluate a model on medical benchmarks."""
    _not_available("eval")


@app.command()
def run(
    recipe: Optional[Path] = typer.Argument(None, help="Recipe YAML (default: the bundled offline demo)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory."),
):
    """Run the whole recipe as one resumable run."""
    _not_available("run")


@app.command()
def chat(
    model: str = typer.Option("embedded", "--model", help="Model spec or checkpoint directory."),
    no_cache: bool = NoCacheOpt,
):
    """Chat with a model; shows its thinking and its final response separately."""
    _not_available("chat")


def main() -> None:
    try:
        app()
    except Medo1Error as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted; finished work is saved, re-run to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
