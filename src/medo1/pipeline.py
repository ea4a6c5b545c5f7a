"""`medo1 run`: the whole recipe as one resumable run in a run directory.

    curate -> split -> decontaminate -> search -> synthesize -> sft -> rl -> eval

Every stage writes its outputs into the run directory and, when it finishes, a line in
`run.json` (seconds, summary, a fingerprint of the settings it ran with). A re-run skips
finished stages; a stage killed half-way resumes from its own outputs (item stages skip
finished ids, training resumes from its latest checkpoint). Changing the settings of a
finished stage is an error rather than a silent mix: redo it with `--from STAGE --force`.

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
    ckpt/sft, ckpt/rl              trained models (HF checkpoints), metrics.jsonl, checkpoints
    eval/base, eval/sft, eval/rl   per-item outputs and results of each model
    report.md, report.html, plots/
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import yaml
from rich.console import Console

from medo1.errors import Medo1Error
from medo1.jsonl import read_jsonl
from medo1.recipe import SAMPLE, Recipe, load_recipe
from medo1.records import MCQ

STAGES = ("curate", "split", "decontaminate", "search", "synthesize", "sft", "rl", "eval")
TRAINING = ("sft", "rl")  # the stages that may run under `accelerate launch` (several processes)

# The recipe sections (and model roles) each stage depends on: its fingerprint.
DEPENDS: dict[str, tuple[str, ...]] = {
    "curate": ("data", "curate", "models.teacher", "models.difficulty", "lang", "prompts"),
    "split": ("split", "seed"),
    "decontaminate": ("decontaminate", "eval.benches", "eval.data"),
    "search": ("search", "models.teacher", "models.verifier", "seed", "lang", "prompts"),
    "synthesize": ("synthesize", "models.teacher", "models.verifier", "seed", "lang", "prompts"),
    "sft": ("sft", "models.policy", "seed"),
    "rl": ("rl", "models.verifier", "seed"),
    "eval": ("eval", "models.policy", "lang", "prompts", "seed"),
}


@dataclass
class Paths:
    root: Path

    def __getattr__(self, name: str) -> Path:
        files = {
            "recipe": "recipe.yaml", "state": "run.json", "cache": "cache.sqlite", "log": "logs/run.log",
            "mcq": "mcq.jsonl", "problems": "problems.jsonl", "search_split": "split/search.jsonl",
            "rl_split": "split/rl.jsonl", "eval_items": "eval_items.jsonl", "search_problems": "clean/search.jsonl",
            "rl_problems": "clean/rl.jsonl", "traces": "traces.jsonl", "sft_data": "sft.jsonl",
            "sft_model": "ckpt/sft", "rl_model": "ckpt/rl", "eval": "eval",
        }
        if name not in files:
            raise AttributeError(name)
        return self.root / files[name]


class Run:
    """One run directory: its recipe, its state file and its log."""

    def __init__(self, recipe: Recipe, root: Path, *, concurrency: int | None, cache: bool,
                 console: Console | None = None):
        self.recipe, self.paths = recipe, Paths(root)
        self.concurrency = concurrency or recipe.models.concurrency
        self.cache: bool | Path = self.paths.cache if cache else False
        self.console = console or Console(stderr=True)
        root.mkdir(parents=True, exist_ok=True)
        self.paths.log.parent.mkdir(parents=True, exist_ok=True)
        self.state = json.loads(self.paths.state.read_text()) if self.paths.state.exists() else {"stages": {}}
        self.main = int(os.environ.get("RANK", "0")) == 0  # under accelerate launch, one process keeps the books

    # ------------------------------------------------------------ bookkeeping

    def log(self, message: str) -> None:
        if not self.main:
            return
        with open(self.paths.log, "a", encoding="utf-8") as f:
            f.write(f"{datetime.now().isoformat(timespec='seconds')} {message}\n")

    def fingerprint(self, stage: str) -> str:
        dumped = self.recipe.dump()
        picked = {}
        for dotted in DEPENDS[stage]:
            value: Any = dumped
            for part in dotted.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            picked[dotted] = value
        return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:16]

    def done(self, stage: str) -> dict[str, Any] | None:
        return self.state["stages"].get(stage)

    def mark_done(self, stage: str, seconds: float, summary: dict[str, Any]) -> None:
        self.state["stages"][stage] = {
            "seconds": round(seconds, 1), "summary": summary, "fingerprint": self.fingerprint(stage),
            "finished": datetime.now().isoformat(timespec="seconds"),
        }
        self._save_state()

    def forget(self, stage: str) -> None:
        if self.state["stages"].pop(stage, None) is not None:
            self._save_state()

    def _save_state(self) -> None:
        if not self.main:
            return
        tmp = self.paths.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2, default=str) + "\n")
        tmp.replace(self.paths.state)

    def spec(self, role: str) -> str:
        return self.recipe.model_spec(getattr(self.recipe.models, role))


# ---------------------------------------------------------------- stages


def stage_curate(run: Run) -> dict[str, Any]:
    from medo1.curate import CurateConfig, curate_file

    r, p = run.recipe, run.paths
    if not p.mcq.exists():  # the inputs, gathered once (a re-run keeps the same questions)
        mcqs = gather_mcqs(r)
        tmp = p.mcq.with_suffix(".tmp")
        tmp.write_text("".join(m.model_dump_json() + "\n" for m in mcqs), encoding="utf-8")
        tmp.replace(p.mcq)
    cfg = CurateConfig(**r.curate.model_dump(), lang=r.lang, prompts=_prompts(r))
    summary = curate_file(p.mcq, p.problems, cfg, teacher=run.spec("teacher") if cfg.needs_teacher else None,
                          difficulty_models=[r.model_spec(s) for s in r.models.difficulty],
                          concurrency=run.concurrency, cache=run.cache)
    return summary.as_dict()


def gather_mcqs(recipe: Recipe) -> list[MCQ]:
    from medo1.data import SAMPLE_MCQ

    mcqs: list[MCQ] = []
    for value in recipe.data.mcq:
        mcqs += read_jsonl(SAMPLE_MCQ if value == SAMPLE else recipe.input_path(value), MCQ,
                           cop_base=recipe.data.cop_base)
    if recipe.data.split is not None:
        mcqs = [m for m in mcqs if m.split in (None, recipe.data.split)]
    unique = list({m.id: m for m in mcqs}.values())  # the same question twice is one question
    if recipe.data.limit:
        unique = unique[: recipe.data.limit]
    if not unique:
        raise Medo1Error(f"{recipe.path}: data: no questions (split {recipe.data.split!r})")
    return unique


def stage_split(run: Run) -> dict[str, Any]:
    from medo1.split import split_file

    p = run.paths
    n_search, n_rl = split_file(p.problems, p.search_split, p.rl_split,
                                rl_fraction=run.recipe.split.rl_fraction, seed=run.recipe.seed)
    return {"search": n_search, "rl": n_rl}


def stage_decontaminate(run: Run) -> dict[str, Any]:
    from medo1.decontaminate import decontaminate_file

    r, p = run.recipe, run.paths
    items = eval_items(r)
    p.eval_items.write_text("".join(i.model_dump_json() + "\n" for i in items), encoding="utf-8")
    summary: dict[str, Any] = {"eval_items": len(items)}
    for part, source, out in (("search", p.search_split, p.search_problems), ("rl", p.rl_split, p.rl_problems)):
        out.parent.mkdir(parents=True, exist_ok=True)
        if not r.decontaminate.enabled:
            out.write_bytes(source.read_bytes())
            summary[part] = {"input": _count(source), "dropped": 0}
            continue
        report = decontaminate_file(source, out, [p.eval_items], n=r.decontaminate.span)
        summary[part] = {"input": report.input, "dropped": len(report.dropped),
                         "ids": [d.get("id") for d in report.dropped]}
    return summary


def eval_items(recipe: Recipe):
    from medo1.evaluate import load_benchmark

    items = []
    for bench in recipe.eval.benches:
        data = recipe.eval.data.get(bench)
        name = bench if bench in _registry() else str(recipe.input_path(bench))
        items += load_benchmark(name, recipe.input_path(data) if data else None, limit=recipe.eval.limit,
                                cop_base=recipe.eval.cop_base)
    return items


def _registry():
    from medo1.evaluate.benchmarks import BENCHMARKS

    return BENCHMARKS


def stage_search(run: Run) -> dict[str, Any]:
    from medo1.search import SearchConfig, search_file

    r, p = run.recipe, run.paths
    cfg = SearchConfig(**r.search.model_dump(), seed=r.seed, lang=r.lang, prompts=_prompts(r))
    if _count(p.search_problems) == 0:
        raise Medo1Error("search: no problems left after curation, split and decontamination; see problems.rejected.jsonl")
    summary = search_file(p.search_problems, p.traces, cfg, teacher=run.spec("teacher"),
                          verifier=_verifier(run), concurrency=run.concurrency, cache=run.cache)
    return summary.as_dict()


def stage_synthesize(run: Run) -> dict[str, Any]:
    from medo1.synthesize import SynthConfig, synthesize_file

    r, p = run.recipe, run.paths
    cfg = SynthConfig(**r.synthesize.model_dump(), seed=r.seed, lang=r.lang, prompts=_prompts(r))
    summary = synthesize_file(p.traces, p.sft_data, cfg, teacher=run.spec("teacher"), verifier=_verifier(run),
                              concurrency=run.concurrency, cache=run.cache)
    if _count(p.sft_data) == 0:
        raise Medo1Error("synthesize: no SFT example was written (the search found no trajectory, or every "
                         "rewrite drifted from the verified answer?); see traces.jsonl and sft.failed.jsonl")
    if summary.checked:
        run.console.print(f"synthesize: consistency with the verified answer {100 * summary.consistency_rate:.1f}% "
                          f"({summary.agreed_first} of {summary.checked} at the first ask, {summary.reasked} after a "
                          f"re-ask, {summary.drifted} dropped for drift)")
    return summary.as_dict()


def stage_sft(run: Run) -> dict[str, Any]:
    from medo1.train.common import last_checkpoint
    from medo1.train.sft import SFTSettings, train_sft

    r, p = run.recipe, run.paths
    settings = SFTSettings(**r.sft.model_dump(), data=str(p.sft_data), model=run.spec("policy"),
                           out=str(p.sft_model), seed=r.seed, resume=last_checkpoint(p.sft_model) is not None)
    train_sft(settings)
    return json.loads((p.sft_model / "medo1_sft.json").read_text())


def stage_rl(run: Run) -> dict[str, Any]:
    from medo1.train.common import last_checkpoint, read_metrics

    r, p = run.recipe, run.paths
    fields = r.rl.model_dump()
    algo = fields.pop("algo")
    common = dict(problems=str(p.rl_problems), model=str(p.sft_model), out=str(p.rl_model), verifier=_verifier(run),
                  seed=r.seed, resume=last_checkpoint(p.rl_model) is not None)
    if _count(p.rl_problems) == 0:
        raise Medo1Error("rl: no RL problems (split.rl_fraction is 0 or every problem was dropped)")
    if algo == "ppo":
        from medo1.train.ppo import PPOConfig, train_ppo

        train_ppo(PPOConfig(**fields, **common))
    else:
        from medo1.train.trl_rl import TRLRLSettings, train_trl_rl

        train_trl_rl(TRLRLSettings(algo=algo, **fields, **common))
    rows = [m for m in read_metrics(p.rl_model) if "reward" in m]
    last = rows[-1] if rows else {}
    return {"algo": algo, "steps": len(rows), **{k: last.get(k) for k in ("reward", "correct_rate", "format_rate", "kl")}}


def stage_eval(run: Run) -> dict[str, Any]:
    """The base model (before) and the SFT and RL models (after), on the same items and settings."""
    from medo1.embedded import resolve_checkpoint
    from medo1.evaluate import EvalConfig, run_eval

    r, p = run.recipe, run.paths
    fields = r.eval.model_dump()
    fields["benches"] = tuple(b if b in _registry() else str(r.input_path(b)) for b in fields["benches"])
    fields["data"] = {k: str(r.input_path(v)) for k, v in fields["data"].items()}
    cfg = EvalConfig(**fields, lang=r.lang, prompts=_prompts(r), seed=r.seed)
    base = resolve_checkpoint(run.spec("policy"))
    models = {"base": f"hf:{base}", "sft": f"hf:{p.sft_model}", "rl": f"hf:{p.rl_model}"}
    summary = {}
    for name, spec in models.items():
        run.console.print(f"[bold]eval[/bold] {name}: {spec}")
        results = run_eval(spec, p.eval / name, cfg, concurrency=run.concurrency, cache=run.cache)
        summary[name] = {bench: {k: v.get(k) for k in ("n", "accuracy", "ci_low", "ci_high", "unparsed_rate")}
                         for bench, v in results.get("benches", {}).items()}
    return summary


def _verifier(run: Run) -> str:
    spec = run.recipe.models.verifier
    if spec.startswith("judge:"):
        return "judge:" + run.recipe.model_spec(spec.removeprefix("judge:"))
    if spec.startswith("classifier:"):
        return "classifier:" + str(run.recipe.input_path(spec.removeprefix("classifier:")))
    return spec


def _prompts(recipe: Recipe) -> str | None:
    return str(recipe.input_path(recipe.prompts)) if recipe.prompts else None


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


RUNNERS: dict[str, Callable[[Run], dict[str, Any]]] = {
    "curate": stage_curate, "split": stage_split, "decontaminate": stage_decontaminate, "search": stage_search,
    "synthesize": stage_synthesize, "sft": stage_sft, "rl": stage_rl, "eval": stage_eval,
}

# What each stage writes: removed by --force so the stage starts over.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "curate": ("mcq", "problems"),
    "split": ("search_split", "rl_split"),
    "decontaminate": ("eval_items", "search_problems", "rl_problems"),
    "search": ("traces",),
    "synthesize": ("sft_data",),
    "sft": ("sft_model",),
    "rl": ("rl_model",),
    "eval": ("eval",),
}


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
    console: Console | None = None,
) -> Path:
    """Run (or resume) the recipe's stages in `out`; returns the run directory."""
    loaded = load_recipe(recipe, quick=quick)
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
        t0 = time.perf_counter()
        try:
            summary = RUNNERS[stage](run)
        except BaseException as err:
            run.log(f"stopped {stage} after {time.perf_counter() - t0:.1f} s: {type(err).__name__}: {err}")
            raise
        seconds = time.perf_counter() - t0
        run.mark_done(stage, seconds, summary)
        run.log(f"done {stage} in {seconds:.1f} s: {json.dumps(summary, default=str)[:2000]}")
        console.print(f"[green]{title} done in {seconds:.1f} s[/green]")
    run.log(f"finished in {time.perf_counter() - started:.1f} s")
    if report and run.main:
        from medo1.report import write_report

        md, html = write_report(root)
        console.print(f"report: {md}  {html}")
    return root


def _check_same_recipe(run: Run) -> None:
    """A run directory belongs to one recipe name; mixing two would corrupt both."""
    if run.paths.recipe.exists():
        earlier = yaml.safe_load(run.paths.recipe.read_text(encoding="utf-8")) or {}
        if earlier.get("name") not in (None, run.recipe.name):
            raise Medo1Error(f"{run.paths.root} holds a run of recipe {earlier.get('name')!r}; choose another --out")


def _remove_outputs(run: Run, stage: str) -> None:
    import shutil

    from medo1.decontaminate import dropped_path
    from medo1.pool import usage_path
    from medo1.jsonl import failed_path
    from medo1.synthesize import official_path

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
