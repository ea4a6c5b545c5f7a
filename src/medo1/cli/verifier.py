"""Commands that make and measure verifiers: verifier-data, verifier-train, verifier-eval."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, PromptsOpt, app


@app.command("verifier-data")
def verifier_data(
    sources: list[Path] = typer.Argument(None, help="Run directories (their verdicts.jsonl) or verdict-log files."),
    out: Path = typer.Option(..., "--out", help="Output JSONL: response, reference, label, source, split."),
    labeled: list[Path] = typer.Option([], "--labeled", help="Human labels (response, reference, label); "
                                       "they win over judge verdicts. Repeat the option for more files."),
    heldout: float = typer.Option(0.1, "--heldout", min=0.0, max=0.9, help="Share of rows held out (by reference)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out split."),
):
    """Collect judge verdicts (and human labels) into a deduplicated verifier training set with a held-out split."""
    from medo1.verify.data import verifier_data as collect

    summary = collect(sources or [], out, labeled=labeled, heldout=heldout, seed=seed)
    typer.echo("verifier-data: " + "\n".join(summary.lines()) + f"\n  -> {out}")


@app.command("verifier-train")
def verifier_train(
    data: Path = typer.Option(..., "--data",
                              help="`medo1 verifier-data` output (or any response, reference, label file)."),
    model: str = typer.Option("embedded", "--model",
                              help="Base model: embedded, hf:<path-or-repo>, a directory or a hub id."),
    out: Path = typer.Option(..., "--out", help="Output directory; load it as classifier:<out>."),
    layout: str = typer.Option("pair", "--layout", help="pair | official (the medical_o1_verifier_3B input layout)."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters and the head (peft); saved merged."),
    epochs: float = typer.Option(3.0, "--epochs", min=0.0, help="Most passes over the training rows."),
    lr: float = typer.Option(2e-5, "--lr", help="Peak learning rate."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Rows per optimizer step."),
    max_length: int = typer.Option(512, "--max-length", min=8, help="Longest tokenized pair."),
    patience: int = typer.Option(2, "--patience", min=1,
                                 help="Evaluations without a better held-out loss before stopping."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", min=1,
                                             help="Evaluate every N steps (default: each epoch)."),
    target_precision: float = typer.Option(0.95, "--target-precision", min=0.0, max=1.0,
                                           help="Held-out precision the chosen threshold must reach."),
    seed: int = typer.Option(0, "--seed", help="Seed."),
):
    """Train a sequence-classifier verifier; its threshold is chosen on the held-out rows for a target precision."""
    from medo1.verify.train import VerifierTrainConfig, train_verifier

    cfg = VerifierTrainConfig(data=str(data), out=str(out), model=model, layout=layout, lora=lora, epochs=epochs, lr=lr,
                              batch_size=batch_size, max_length=max_length, patience=patience, eval_steps=eval_steps,
                              target_precision=target_precision, seed=seed)
    s = train_verifier(cfg)
    h = s["heldout"]["at_threshold"]
    met = "" if s["target_met"] else f" (target precision {target_precision} NOT reached: the most precise threshold)"
    typer.echo(f"verifier-train: {s['steps']} steps, best held-out loss {s['best_eval_loss']:.4f}; threshold "
               f"{s['threshold']:.4f}{met}: held-out accuracy {h['accuracy']:.3f} precision "
               f"{h['precision'] if h['precision'] is not None else float('nan'):.3f} recall {h['recall']:.3f} "
               f"-> classifier:{out}")


@app.command("verifier-eval")
def verifier_eval(
    labeled: Path = typer.Option(..., "--labeled",
                                 help="JSONL of human labels: response, reference, label (optional: kind, id)."),
    verifier: str = typer.Option("match", "--verifier",
                                 help="match | judge:<model spec> | classifier:[official:]<path>."),
    compare: Optional[str] = typer.Option(None, "--compare", help="Comma-separated verifier specs, side by side."),
    threshold: Optional[float] = typer.Option(None, "--threshold",
                                              help="classifier: P(correct) above which it says True "
                                                   "(default: the checkpoint's own, else 0.5; official 0.4)."),
    recipe: Optional[str] = typer.Option(None, "--recipe", help="Recipe whose report.prices give the judge's cost."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report (with every disagreement) as JSON."),
    lang: str = typer.Option("en", "--lang", help="Prompt language of the judge: en or zh."),
    prompts: Optional[Path] = PromptsOpt,
    concurrency: int = ConcurrencyOpt,
    no_cache: bool = NoCacheOpt,
):
    """Agreement of a verifier with human labels: accuracy, precision, recall, F1, Cohen's kappa, confusion matrix,
    verdicts/s and a judge's cost per 1,000 verdicts; per kind too when the file has a `kind` column (accepted = how
    often the verifier said True). With --compare, one row per verifier."""
    from medo1.verify import compare_verifiers, comparison_lines

    specs = [s.strip() for s in compare.split(",") if s.strip()] if compare else [verifier]
    reports = compare_verifiers(labeled, specs, out=out, recipe=recipe, concurrency=concurrency, cache=not no_cache,
                                threshold=threshold, lang=lang, prompts=prompts)
    typer.echo("\n".join(comparison_lines(reports) if compare else reports[0].lines()))
