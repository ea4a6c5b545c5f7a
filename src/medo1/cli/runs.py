"""Commands over whole runs and trained models: eval, run, report, chat."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, app, config_command
from medo1.evaluate.runner import EvalConfig
from medo1.errors import Medo1Error


@config_command(EvalConfig, name="eval", skip=("data", "progress"))
def eval_(
    config: EvalConfig,
    model: Optional[str] = typer.Option(None, "--model", help="Model spec (embedded, hf:DIR, gguf:FILE, "
                                        "openai:NAME[@URL]) or a checkpoint directory."),
    data: list[str] = typer.Option([], "--data", help="A local copy instead of the hub: FILE (one benchmark) or "
                                   "BENCH=FILE (repeatable); .jsonl, .json, .parquet, .csv."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (re-run to resume). With --compare: "
                                       "write the table to this file."),
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
    compare: bool = typer.Option(False, "--compare", help="Print Table 1 for the saved eval directories DIRS, and "
                                 "a paired test of each against the one before (same questions)."),
    dirs: Optional[list[Path]] = typer.Argument(None, help="With --compare: eval output directories."),
):
    """Evaluate a model on medical benchmarks, or compare saved evaluations (--compare DIR...)."""
    from medo1.evaluate import tables
    from medo1.evaluate.paired import compare_report
    from medo1.evaluate.runner import data_files, run_eval

    if compare:
        table = compare_report(dirs or [])
        typer.echo(table)
        if out is not None:
            out.write_text(table + "\n")
        return
    if dirs:
        raise Medo1Error(f"unexpected argument {dirs[0]}; to compare saved evaluations use --compare DIR...")
    if model is None or out is None:
        raise Medo1Error("--model and --out are required (or --compare DIR...)")
    config = dataclasses.replace(config, data=data_files(config.benches, data))
    results = run_eval(model, out, config, concurrency=concurrency, cache=not no_cache)
    typer.echo(tables.paper_table([results]) + "\n\n" + tables.details_table(results))
    typer.echo(f"\nanswered by {results['setup'].get('backend')}; items and results in {out}/ (results.json, results.md)")


@app.command()
def run(
    recipe: Optional[str] = typer.Argument(
        None, help="Recipe YAML, or a bundled recipe name (demo, paper-8b). Default: the offline demo."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: runs/<recipe name>)."),
    quick: bool = typer.Option(False, "--quick", help="Apply the recipe's `quick:` overrides (demo: 8-14 minutes on 2 cores)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated stages to run, e.g. sft,rl."),
    start: Optional[str] = typer.Option(None, "--from", help="Run this stage and every later one."),
    force: bool = typer.Option(False, "--force", help="Redo the selected stages from scratch (their outputs are removed)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="Override models.concurrency."),
    no_cache: bool = NoCacheOpt,
    print_launch: bool = typer.Option(False, "--print-launch", help="rl.engine verl: print (and write to "
                                      "ckpt/rl/verl_launch.sh) the verl launch of the rl stage; run nothing else."),
    keep_checkpoints: Optional[int] = typer.Option(
        None, "--keep-checkpoints", min=0, help="Resumable checkpoints each training stage keeps once its final "
        "weights are written (overrides the recipe; default 0: only the final weights)."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe setting: section.key=value (repeatable; "
                                   "the value is YAML, e.g. --set sft.epochs=1 --set search.strategies=[correction])."),
):
    """Run the whole recipe (curate, split, decontaminate, search, synthesize, sft, passrate, rl, eval) as one
    resumable run. Kill it at any time; the same command resumes where it stopped."""
    from medo1.pipeline import run_recipe

    if print_launch:
        from medo1.pipeline import Run, default_run_dir
        from medo1.recipe import load_recipe
        from medo1.stages import rl_on_verl

        loaded = load_recipe(recipe, quick=quick, sets=set_)
        root = out or default_run_dir(loaded, quick)
        typer.echo(rl_on_verl(Run(loaded, root, concurrency=concurrency, cache=not no_cache), print_launch=True))
        return

    stages = [s.strip() for s in only.split(",") if s.strip()] if only else None
    run_recipe(recipe, out, quick=quick, only=stages, start=start, force=force, concurrency=concurrency,
               cache=not no_cache, keep_checkpoints=keep_checkpoints, sets=set_)


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A run directory of `medo1 run`.")):
    """Write (again) report.md and report.html of a run directory."""
    from medo1.report import write_report

    if not (run_dir / "run.json").exists():
        raise Medo1Error(f"{run_dir}: not a run directory (no run.json)")
    md, html = write_report(run_dir)
    typer.echo(f"{md}\n{html}")


@app.command()
def chat(
    model: str = typer.Option("embedded", "--model", help="Model spec, checkpoint directory or .gguf file."),
    system: Optional[str] = typer.Option(None, "--system", help="System message."),
    message: Optional[str] = typer.Option(
        None, "--message", help="Send one message, print the reply and exit (stdin that is not a terminal: one turn "
                                "per line)."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, help="Most tokens per reply."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="Sampling temperature (0: greedy)."),
    no_cache: bool = NoCacheOpt,
):
    """Chat with a model; shows its thinking and its final response separately."""
    from medo1.chat import run_chat

    run_chat(model, system=system, message=message, max_tokens=max_tokens, temperature=temperature,
             cache=not no_cache)
