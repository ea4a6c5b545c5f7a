"""The stages of `medo1 run`: each takes the run (its recipe and directory), hands its inputs and
settings to the stage's own module, and returns the summary that `run.json` keeps.

`medo1.pipeline` owns the run itself (the directory, its state, resuming, `--force`); this module
only wires each stage to the recipe: which files it reads, which models and settings it gets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from medo1.errors import Medo1Error
from medo1.jsonl import read_jsonl
from medo1.recipe import SAMPLE, Recipe
from medo1.records import MCQ
from medo1.rundir import Run


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
    from medo1.reasoning.search import SearchConfig, search_file

    r, p = run.recipe, run.paths
    cfg = SearchConfig(**r.search.model_dump(), seed=r.seed, lang=r.lang, prompts=_prompts(r))
    if _count(p.search_problems) == 0:
        raise Medo1Error("search: no problems left after curation, split and decontamination; see problems.rejected.jsonl")
    summary = search_file(p.search_problems, p.traces, cfg, teacher=run.spec("teacher"),
                          verifier=_verifier(run), concurrency=run.concurrency, cache=run.cache, verdict_log=p.verdicts)
    return summary.as_dict()


def stage_synthesize(run: Run) -> dict[str, Any]:
    from medo1.reasoning.synthesize import SynthConfig, synthesize_file

    r, p = run.recipe, run.paths
    cfg = SynthConfig(**r.synthesize.model_dump(), seed=r.seed, lang=r.lang, prompts=_prompts(r))
    summary = synthesize_file(p.traces, p.sft_data, cfg, teacher=run.spec("teacher"), verifier=_verifier(run),
                              concurrency=run.concurrency, cache=run.cache, verdict_log=p.verdicts)
    if _count(p.sft_data) == 0:
        raise Medo1Error("synthesize: no SFT example was written (the search found no trajectory, or every "
                         "rewrite drifted from the verified answer?); see traces.jsonl and sft.failed.jsonl")
    if summary.checked:
        run.console.print(f"synthesize: consistency with the verified answer {100 * summary.consistency_rate:.1f}% "
                          f"({summary.agreed_first} of {summary.checked} at the first ask, {summary.reasked} after a "
                          f"re-ask, {summary.drifted} dropped for drift)")
    return summary.as_dict()


def stage_verifier(run: Run) -> dict[str, Any]:
    """Optional: distil the judge's verdicts (verdicts.jsonl) and any human labels into a classifier for `rl`."""
    from medo1.verify.data import verifier_data
    from medo1.train.verifier import VerifierTrainConfig, train_verifier

    r, p = run.recipe, run.paths
    if not r.verifier.enabled:
        return {"enabled": False}
    fields = r.verifier.model_dump()
    labeled = [r.input_path(f) for f in fields.pop("labeled")]
    fields.pop("enabled")
    sources = [p.verdicts] if p.verdicts.exists() else []
    if not sources and not labeled:
        raise Medo1Error(f"verifier: no judge verdicts in {p.verdicts} (models.verifier is {r.models.verifier!r}; "
                         "the stage distils a judge) and no verifier.labeled files")
    data = verifier_data(sources, p.verifier_data, labeled=labeled, heldout=fields["heldout"], seed=r.seed)
    for line in data.lines():
        run.console.print(f"verifier data: {line}")
    fields["model"] = r.model_spec(fields["model"])
    summary = train_verifier(VerifierTrainConfig(**fields, data=str(p.verifier_data), out=str(p.verifier_model),
                                                 seed=r.seed))
    return {"enabled": True, "data": data.counts, **{k: summary[k] for k in (
        "threshold", "target_met", "steps", "best_eval_loss", "heldout")}}


IN_PROCESS_ENV = "MEDO1_TRAIN_IN_PROCESS"


def in_fresh_process(fn: Callable, *args: Any) -> Any:
    """`fn(*args)` in a new Python process (spawn), or here under a distributed launcher.

    A training stage ran far slower in the process where llama.cpp had generated before (the quick demo's SFT
    steps on 2 cores: 2.2-2.8 s there, 1.5-1.9 s in a fresh process), and a fresh one starts without the earlier
    stages' models in memory. Under `accelerate launch` / torchrun (WORLD_SIZE > 1) the launcher owns the
    processes and the stage runs in them; `MEDO1_TRAIN_IN_PROCESS=1` keeps it here too. Errors come back
    as they were raised; the new process dies with this one."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 or os.environ.get(IN_PROCESS_ENV) == "1":
        return fn(*args)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_die_with_parent) as pool:
        return pool.submit(fn, *args).result()


def _die_with_parent() -> None:
    """Linux: this (child) process is killed when its parent dies, so a killed run leaves no trainer behind."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def stage_sft(run: Run) -> dict[str, Any]:
    from medo1.train.common import last_checkpoint
    from medo1.train.sft import SFTSettings, train_sft

    r, p = run.recipe, run.paths
    settings = SFTSettings(**r.sft.model_dump(), data=str(p.sft_data), model=run.spec("policy"),
                           out=str(p.sft_model), seed=r.seed, resume=last_checkpoint(p.sft_model) is not None)
    in_fresh_process(train_sft, settings)
    return json.loads((p.sft_model / "medo1_sft.json").read_text())


def stage_passrate(run: Run) -> dict[str, Any]:
    """Optional (`passrate.enabled`): sample the SFT model K times per RL problem, as RL samples, score each
    response with the RL reward's verifier, and keep the problems it solves sometimes; rl then trains on those."""
    from medo1.passrate import PassRateConfig, passrate_file

    r, p = run.recipe, run.paths
    if not r.passrate.enabled:
        return {"enabled": False}
    if _count(p.rl_problems) == 0:
        raise Medo1Error("passrate: no RL problems (split.rl_fraction is 0 or every problem was dropped)")
    cfg = PassRateConfig(**r.passrate.model_dump(), temperature=r.rl.temperature, max_new_tokens=r.rl.max_new_tokens,
                         verifier=rl_verifier(run), seed=r.seed)
    summary = passrate_file(p.rl_problems, p.passrate, cfg, model=f"hf:{p.sft_model}", selected=p.rl_selected,
                            concurrency=run.concurrency, cache=run.cache)
    for line in summary.lines():
        run.console.print(f"passrate: {line}")
    if summary.kept == 0:
        raise Medo1Error(f"passrate: no problem has a pass rate between {cfg.min_pass_rate} and {cfg.max_pass_rate} "
                         f"(see {p.passrate}); widen the bounds, add problems, or turn the stage off")
    return {"enabled": True, **summary.as_dict()}


def rl_problems(run: Run) -> Path:
    """What RL trains on: the problems the pass-rate stage kept when it is on, else the decontaminated RL part."""
    return run.paths.rl_selected if run.recipe.passrate.enabled else run.paths.rl_problems


def stage_rl(run: Run) -> dict[str, Any]:
    from medo1.train.common import last_checkpoint, read_metrics
    from medo1.train.rl import train_rl

    r, p = run.recipe, run.paths
    fields = r.rl.model_dump()
    algo, engine = fields.pop("algo"), fields.pop("engine", "ours")
    fields.pop("verl", None)
    if _count(rl_problems(run)) == 0:
        why = ("run the passrate stage first: medo1 run RECIPE --only passrate" if r.passrate.enabled else
               "split.rl_fraction is 0 or every problem was dropped")
        raise Medo1Error(f"rl: no RL problems in {rl_problems(run)} ({why})")
    if engine == "verl":
        rl_on_verl(run)
    else:
        in_fresh_process(train_rl, algo, engine, {**fields, "problems": str(rl_problems(run)),
                                                  "model": str(p.sft_model), "out": str(p.rl_model),
                                                  "verifier": rl_verifier(run), "seed": r.seed,
                                                  "resume": last_checkpoint(p.rl_model) is not None})
    rows = [m for m in read_metrics(p.rl_model) if "reward" in m]
    last = rows[-1] if rows else {}
    return {"algo": algo, "engine": engine, "steps": len(rows),
            **{k: last.get(k) for k in ("reward", "correct_rate", "format_rate", "kl")}}


def rl_on_verl(run: Run, *, print_launch: bool = False):
    """The RL stage handed to verl (`rl.engine: verl`, algo ppo or grpo): run it, or return its launch script.
    verl resumes from its last checkpoint (refused when the problems changed since); --force starts over.
    Only the settings the recipe sets are given: verl's defaults apply to the rest (gradient checkpointing on)."""
    from medo1.integrations.verl_settings import VerlSettings
    from medo1.train.rl import train_rl

    r, p = run.recipe, run.paths
    if _count(rl_problems(run)) == 0:
        raise Medo1Error(f"rl: no RL problems in {rl_problems(run)} (run the stages before rl first)")
    if not p.sft_model.exists():
        raise Medo1Error(f"rl: no SFT model in {p.sft_model} (run the sft stage first)")
    if getattr(r.rl, "engine", "ours") != "verl":
        raise Medo1Error(f"{r.path}: rl.engine is not verl (set `engine: verl` in the rl section)")
    given = {k: v for k, v in r.rl.model_dump(include=r.rl.model_fields_set).items()
             if k not in ("algo", "engine", "verl")}
    given.update(problems=str(rl_problems(run)), model=str(p.sft_model), out=str(p.rl_model),
                 verifier=rl_verifier(run), seed=r.seed, resume=True)
    return train_rl(r.rl.algo, "verl", given, verl=VerlSettings(**r.rl.verl.model_dump()), print_launch=print_launch,
                    run_name=r.name, lang=r.lang, prompts=_prompts(r), cache=run.cache, concurrency=run.concurrency)


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
        run.log(f"eval {name}: answered by {results['setup'].get('backend')}")
        # official_accuracy: the official scorer's figure (eval.scorer official); maj_accuracy: maj@K (eval.samples)
        keys = ("n", "accuracy", "ci_low", "ci_high", "unparsed_rate", "official_accuracy", "maj_accuracy")
        summary[name] = {bench: {k: v[k] for k in keys if k in v} for bench, v in results.get("benches", {}).items()}
    return summary


def rl_verifier(run: Run) -> str:
    """The RL reward's verifier: the classifier the `verifier` stage trained when it is on (joined to the rule
    its `join` names, at the threshold chosen for that join), else the recipe's `models.reward`
    (`match:strict`, say), else its `models.verifier`."""
    if run.recipe.verifier.enabled:
        join = run.recipe.verifier.join
        return (f"{join}+" if join else "") + f"classifier:{run.paths.verifier_model}"
    return _verifier(run, run.recipe.models.reward)


def _verifier(run: Run, spec: str | None = None) -> str:
    """The spec with its model specs and paths resolved against the recipe (each part of a joined one)."""
    from medo1.verify.combined import split_spec

    return "+".join(_resolve(run, part) for part in split_spec(spec or run.recipe.models.verifier))


def _resolve(run: Run, spec: str) -> str:
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
    "synthesize": stage_synthesize, "verifier": stage_verifier, "sft": stage_sft, "passrate": stage_passrate,
    "rl": stage_rl, "eval": stage_eval,
}
