"""Commands that make and measure verifiers: verifier-data, verifier-train, verifier-eval."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medo1.cli.app import ConcurrencyOpt, NoCacheOpt, PromptsOpt, app, config_command
from medo1.train.verifier import VerifierTrainConfig


@app.command("verifier-data")
def verifier_data(
    sources: list[Path] = typer.Argument(None, help="Run directories (their verdicts.jsonl) or verdict-log files."),
    out: Path = typer.Option(..., "--out", help="Output JSONL: response, reference, label, source, split "
                             "(train, calibration or test)."),
    labeled: list[Path] = typer.Option([], "--labeled", help="Human labels (response, reference, label); "
                                       "they win over judge verdicts. Repeat the option for more files."),
    heldout: float = typer.Option(0.2, "--heldout", min=0.0, max=0.9, help="Share of rows held out from training "
                                  "(by reference answer): half for calibration, half for test."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
):
    """Collect judge verdicts (and human labels) into a deduplicated verifier data set in three parts: train,
    calibration (early stopping, the threshold) and test (the figures reported)."""
    from medo1.verify.data import verifier_data as collect

    summary = collect(sources or [], out, labeled=labeled, heldout=heldout, seed=seed)
    typer.echo("verifier-data: " + "\n".join(summary.lines()) + f"\n  -> {out}")


@config_command(VerifierTrainConfig, name="verifier-train")
def verifier_train(cfg: VerifierTrainConfig):
    """Train a sequence-classifier verifier: early stopping and the threshold on the calibration rows, the figures on
    the test rows."""
    from medo1.train.verifier import train_verifier

    s = train_verifier(cfg)

    def lines(figures: dict, name: str, choice: dict) -> str:
        chosen = "" if choice["calibration_target_met"] else " (not reached on calibration: its most precise one)"
        out = [f"  {name}: threshold {choice['threshold']:.4f}{chosen}"]
        for part in ("calibration", "test"):
            h = figures[part]["at_threshold"]
            out.append(f"    {part:<11} {h['n']:5d} rows: accuracy {h['accuracy']:.3f}  precision {h['precision']:.3f}"
                       f"  recall {h['recall']:.3f}  kappa {h['kappa']:.3f}")
        met = "met" if choice["target_met"] else "NOT met"
        out.append(f"    target precision {cfg.target_precision} on test: {met}")
        return "\n".join(out)

    text = [f"verifier-train: {s['steps']} steps on {s['rows']['train']} rows, best calibration loss "
            f"{s['best_eval_loss']:.4f}", lines(s["heldout"], f"classifier:{cfg.out}", s)]
    if s["join"]:
        text.append(lines(s["join"]["heldout"], f"{s['join']['verifier']}+classifier:{cfg.out}", s["join"]))
    joined = f" (or {s['join']['verifier']}+classifier:{cfg.out})" if s["join"] else ""
    text.append(f"-> classifier:{cfg.out}{joined}")
    typer.echo("\n".join(text))


@app.command("verifier-eval")
def verifier_eval(
    labeled: Path = typer.Option(..., "--labeled",
                                 help="JSONL of human labels: response, reference, label (optional: kind, id)."),
    verifier: str = typer.Option("match", "--verifier",
                                 help="match | match:strict | option | judge:<model spec> | "
                                      "classifier:[official:]<path>; joined by + (match+classifier:<path>): "
                                      "correct when every part is."),
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
    often the verifier said True). With --compare, one row per verifier. Rows a trained classifier among them was
    trained or calibrated on are left out (it says how many)."""
    from medo1.verify import compare_verifiers, comparison_lines

    specs = [s.strip() for s in compare.split(",") if s.strip()] if compare else [verifier]
    prices = {}
    if recipe is not None:
        from medo1.recipe import load_recipe

        prices = {k: tuple(v) for k, v in load_recipe(recipe, check_files=False).report.prices.items()}
    reports = compare_verifiers(labeled, specs, out=out, prices=prices, concurrency=concurrency, cache=not no_cache,
                                threshold=threshold, lang=lang, prompts=prompts, say=typer.echo)
    typer.echo("\n".join(comparison_lines(reports) if compare else reports[0].lines()))
