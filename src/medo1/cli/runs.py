"""Commands over whole runs and trained models: eval, run, report, chat."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, LangOpt, NoCacheOpt, PromptsOpt, app
from medo1.errors import Medo1Error


@app.command("eval")
def eval_(
    model: Optional[str] = typer.Option(None, "--model", help="Model spec (embedded, hf:DIR, gguf:FILE, "
                                        "openai:NAME[@URL]) or a checkpoint directory."),
    bench: str = typer.Option("medqa,medmcqa,pubmedqa,mmlu_pro_med,gpqa_med", "--bench",
                              help="Comma-separated benchmarks (medqa, medmcqa, pubmedqa, mmlu_pro_med, gpqa_med, "
                              "medxpertqa, medbullets_op4, medbullets_op5, huatuo_eval, sample) or local MCQ files."),
    data: list[str] = typer.Option([], "--data", help="A local copy instead of the hub: FILE (one benchmark) or "
                                   "BENCH=FILE (repeatable); .jsonl, .json, .parquet, .csv."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (re-run to resume). With --compare: "
                                       "write the table to this file."),
    style: str = typer.Option("free", "--style", help="free: question + options; strict: asks to end with "
                              "'The answer is X'."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N questions per benchmark."),
    cop_base: Optional[int] = typer.Option(None, "--cop-base", min=0, max=1,
                                           help="MedMCQA cop in local files counts from 0 (hub release) or 1 "
                                                "(original release); default: detected per file."),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=1, help="Most tokens generated per answer."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="Sampling temperature (0: greedy)."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, help="Runs averaged per benchmark "
                                       "[default: GPQA 5, others 1]."),
    samples: int = typer.Option(1, "--samples", min=1, help="Answers sampled per question (K; needs --temperature "
                                "> 0): Avg@K and maj@K with 95% intervals."),
    scorer: str = typer.Option("medo1", "--scorer", help="medo1 (our strict extraction) or official (also the "
                               "official HuatuoGPT-o1 scorer, a second column beside ours)."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (+ run number) and GPQA option order."),
    backend: str = typer.Option("auto", "--backend", help="Engine of a checkpoint directory: auto (llama.cpp on a "
                                "cached GGUF conversion where there is no GPU, else transformers), hf, gguf or vllm "
                                "(vLLM's offline engine; pip install 'medo1[vllm]')."),
    gguf_type: str = typer.Option("f16", "--gguf-type", help="Weights of the GGUF conversion: f16 (near-exact), "
                                  "f32 (exact, slower), q8_0 (fastest, least exact), bf16."),
    lang: str = LangOpt,
    prompts: Optional[Path] = PromptsOpt,
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
    compare: bool = typer.Option(False, "--compare", help="Print Table 1 for the saved eval directories DIRS, and "
                                 "a paired test of each against the one before (same questions)."),
    dirs: Optional[list[Path]] = typer.Argument(None, help="With --compare: eval output directories."),
):
    """Evaluate a model on medical benchmarks, or compare saved evaluations (--compare DIR...)."""
    from medo1.evaluate import tables
    from medo1.evaluate.paired import compare_report
    from medo1.evaluate.runner import BACKENDS, SCORERS, EvalConfig, data_files, run_eval

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
    benches = tuple(b.strip() for b in bench.split(",") if b.strip())
    config = EvalConfig(
        benches=benches, data=data_files(benches, data), style=style, lang=lang,
        prompts=str(prompts) if prompts else None, max_tokens=max_tokens, temperature=temperature, runs=runs,
        samples=samples, scorer=_choice("--scorer", scorer, SCORERS),
        seed=seed, limit=limit, cop_base=cop_base, backend=_choice("--backend", backend, BACKENDS),
        gguf_type=_choice("--gguf-type", gguf_type, ("f16", "f32", "q8_0", "bf16")),
    )
    results = run_eval(model, out, config, concurrency=concurrency, cache=not no_cache)
    typer.echo(tables.paper_table([results]) + "\n\n" + tables.details_table(results))
    typer.echo(f"\nanswered by {results['setup'].get('backend')}; items and results in {out}/ (results.json, results.md)")


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise Medo1Error(f"{option} {value!r}: expected one of {', '.join(choices)}")
    return value


@app.command()
def run(
    recipe: Optional[str] = typer.Argument(
        None, help="Recipe YAML, or a bundled recipe name (demo, paper-8b). Default: the offline demo."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: runs/<recipe name>)."),
    quick: bool = typer.Option(False, "--quick", help="Apply the recipe's `quick:` overrides (demo: 8-10 minutes on 2 cores)."),
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
    """Run the whole recipe (curate, split, decontaminate, search, synthesize, sft, rl, eval) as one
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
