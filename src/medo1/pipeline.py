"""`medo1 run`: the whole recipe as one resumable run in a run directory.

    curate -> split -> decontaminate -> search -> synthesize -> verifier -> sft -> passrate -> rl -> eval

(`verifier` and `passrate` are optional: `verifier.enabled` / `passrate.enabled` in the recipe; otherwise they
record that they are off.)

Every stage writes its outputs into the run directory and, when it finishes, a line in
`run.json` (seconds, summary, a fingerprint of the settings it ran with). A re-run skips
finished stages; a stage killed half-way resumes from its own outputs (item stages skip
finished ids, training resumes from its latest checkpoint). Changing the settings of a
finished stage is an error rather than a silent mix: redo it with `--from STAGE --force`.
What each stage reads and which settings it gets is `medo1.stages`; the run directory (paths, run.json,
fingerprints) is `medo1.rundir`; this module decides which stages run.

Run directory:
    recipe.yaml        the validated recipe, every default filled in
    run.json           stage status, seconds and summaries
    cache.sqlite       the model request cache of this run
    logs/run.log       what happened, with times
    mcq.jsonl                      the questions taken from the inputs
    problems.jsonl (+ .rejected)   stage 0
    split/search.jsonl, split/rl.jsonl, eval_items.jsonl, clean/search.jsonl, clean/rl.jsonl
    traces.jsonl (+ .failed)       stage 1 search
    sft.jsonl (+ .failed)          stage 1 synthesis
    verdicts.jsonl                 every judge verdict of search and synthesis (kept by --force)
    verifier/data.jsonl            the verifier stage's training set; ckpt/verifier its classifier
    ckpt/sft, ckpt/rl              trained models (HF checkpoints), metrics.jsonl, checkpoints
    passrate/                      each RL problem's pass count under the SFT model; rl.jsonl: the problems kept
    eval/base, eval/sft, eval/rl   per-item outputs and results of each model
    report.md, report.html, plots/
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml
from rich.console import Console

from medo1.errors import Medo1Error
from medo1.recipe import Recipe, load_recipe
from medo1.rundir import OUTPUTS, STAGES, TRAINING, Run
from medo1.stages import RUNNERS

# ---------------------------------------------------------------- the run


def select_stages(only: list[str] | None, start: str | None) -> list[str]:
    for name in (only or []) + ([start] if start else []):
        if name not in STAGES:
            raise Medo1Error(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    if only and start:
        raise Medo1Error("use either --only or --from, not both")
    if only:
        return [s for s in STAGES if s in only]
    if start:
        return list(STAGES[STAGES.index(start):])
    return list(STAGES)


def default_run_dir(recipe: Recipe, quick: bool) -> Path:
    if recipe.out:
        return Path(recipe.out)
    return Path("runs") / (recipe.name + ("-quick" if quick else ""))


def run_recipe(
    recipe: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    quick: bool = False,
    only: list[str] | None = None,
    start: str | None = None,
    force: bool = False,
    concurrency: int | None = None,
    cache: bool = True,
    report: bool = True,
    keep_checkpoints: int | None = None,
    sets: list[str] | tuple[str, ...] = (),
    console: Console | None = None,
) -> Path:
    """Run (or resume) the recipe's stages in `out`; returns the run directory. `sets` are
    `section.key=value` overrides of the recipe (`--set`); `keep_checkpoints` overrides the recipe's
    `sft.keep_checkpoints` and `rl.keep_checkpoints`."""
    loaded = load_recipe(recipe, quick=quick, sets=sets)
    if keep_checkpoints is not None:
        if keep_checkpoints < 0:
            raise Medo1Error(f"--keep-checkpoints {keep_checkpoints}: expected 0 or more")
        loaded.sft.keep_checkpoints = loaded.rl.keep_checkpoints = keep_checkpoints
    root = Path(out) if out else default_run_dir(loaded, quick)
    stages = select_stages(only, start)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under accelerate launch / torchrun
        others = [s for s in stages if s not in TRAINING]
        if others or force:
            raise Medo1Error("under accelerate launch only training stages run, without --force: use --only sft "
                             f"or --only rl{' (not ' + ', '.join(others) + ')' if others else ''}")
    run = Run(loaded, root, concurrency=concurrency, cache=cache, console=console)
    _check_same_recipe(run)
    if run.main:
        run.paths.recipe.write_text(yaml.safe_dump(loaded.dump(), sort_keys=False, allow_unicode=True),
                                    encoding="utf-8")
    console = run.console
    console.rule(f"[bold]medo1 run[/bold] {loaded.name}{' (quick)' if quick else ''} -> {root}")
    run.log(f"run {loaded.name} stages={','.join(stages)} quick={quick} force={force}")
    started = time.perf_counter()
    for number, stage in enumerate(stages, start=1):
        title = f"[{number}/{len(stages)}] {stage}"
        finished = run.done(stage)
        if force:  # finished or half-done: start the stage over
            _remove_outputs(run, stage)
            finished = None
        if finished:
            if finished["fingerprint"] != run.fingerprint(stage):
                raise Medo1Error(
                    f"stage {stage} finished earlier in {root} with other settings; redo it (and what follows) "
                    f"with --from {stage} --force, or choose another --out"
                )
            console.print(f"[dim]{title}: done earlier ({finished['seconds']:.0f} s), skipped[/dim]")
            continue
        console.rule(title)
        run.log(f"start {stage}")
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        try:
            summary = RUNNERS[stage](run)
        except BaseException as err:
            run.log(f"stopped {stage} after {time.perf_counter() - t0:.1f} s: {type(err).__name__}: {err}")
            raise
        seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
        run.mark_done(stage, seconds, summary, cpu)
        run.log(f"done {stage} in {seconds:.1f} s ({cpu:.1f} CPU s, load {_load()}): "
                f"{json.dumps(summary, default=str)[:2000]}")
        console.print(f"[green]{title} done in {seconds:.1f} s[/green] [dim]({cpu:.0f} CPU s)[/dim]")
    run.log(f"finished in {time.perf_counter() - started:.1f} s")
    if report and run.main:
        from medo1.report import write_report

        md, html = write_report(root)
        console.print(f"report: {md}  {html}")
    return root


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (a training stage runs in one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> str:
    """The machine's 1-minute load average (wall times on shared cores stretch with it)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def _check_same_recipe(run: Run) -> None:
    """A run directory belongs to one recipe name; mixing two would corrupt both."""
    if run.paths.recipe.exists():
        earlier = yaml.safe_load(run.paths.recipe.read_text(encoding="utf-8")) or {}
        if earlier.get("name") not in (None, run.recipe.name):
            raise Medo1Error(f"{run.paths.root} holds a run of recipe {earlier.get('name')!r}; choose another --out")


def _remove_outputs(run: Run, stage: str) -> None:
    import shutil

    from medo1.decontaminate import dropped_path
    from medo1.jsonl import failed_path
    from medo1.pool import usage_path
    from medo1.reasoning.synthesize import official_path

    for key in OUTPUTS[stage]:
        path = getattr(run.paths, key)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        if path.suffix == ".jsonl":  # and the files written beside it
            for extra in (failed_path(path), failed_path(path, "rejected"), usage_path(path), dropped_path(path),
                          official_path(path)):
                if extra.exists():
                    extra.unlink()
    run.forget(stage)
    run.log(f"removed the outputs of {stage} (--force)")
