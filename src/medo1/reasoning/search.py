"""Stage 1: verifier-guided search for a correct reasoning trajectory (the paper's Algorithm 1).

For each problem (x, y*):

    for attempt in 1..T:                          # restarts (paper: T = 3)
        path = teacher(init prompt)               # a fresh chain of thought e0, ending in y0
        if verify(y0, y*): found
        for i in 1..N:                            # refinements (paper: N = 3)
            k = a strategy sampled at random      # Backtracking only from the 2nd refinement on
            reply = teacher(strategy k, path[:-1])  # the path without its last Verification
            path = path[:-1] + reply              # reply: a Verification saying why y(i-1) is wrong,
            if verify(yi, y*): found              #   Inner Thinking, Final Conclusion yi, Verification
    discard                                       # (or one label-hint round, when enabled)

The label-hint round is one more refinement of the last attempt's path, told the reference
answer. Every reply is a CoT JSON checked by `medo1.reasoning.cot.parse_cot` in the shape of its turn
(initial or refinement); an invalid reply is asked again with the problem stated, a bounded
number of times, and then the problem is recorded as failed. The trace keeps every reply in
`steps`, and the successful path (path[:-1] + reply per refinement) in `trajectory`. Each
problem is its own asyncio task; all of them share one pool of in-flight calls (teacher and
judge alike), so no problem waits for any other. Strategy draws and sampling seeds derive from (seed, problem id): a run is
reproducible, and a killed run resumes where it stopped (finished problems cost no new calls).
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from medo1.errors import Medo1Error
from medo1.jsonl import StageOutput, read_jsonl
from medo1.llm.base import ChatModel
from medo1.pool import CallPool, StageProgress, StageUsage, run_items
from medo1.prompts import load_prompt, render
from medo1.reasoning.config import STRATEGIES, SearchConfig
from medo1.reasoning.cot import (
    ReplyError,
    ask_parsed,
    call_seed,
    conclusion_of,
    cot_json,
    cot_schema,
    grammar_backed,
    grammar_cot_schema,
    parse_cot,
    parse_refinement,
)
from medo1.records import CoTStep, Problem, SearchTrace, TraceStep
from medo1.verify import JudgeVerifier, Verifier, verifier_model


@dataclass
class SearchSummary:
    input: int = 0
    skipped: int = 0  # finished by an earlier run
    found: int = 0
    discarded: int = 0
    failed: int = 0
    label_hint: int = 0  # found only in the label-hint round

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class SearchFailed(Medo1Error):
    """A problem whose search broke off (invalid replies, a model or verifier failure)."""

    def __init__(self, reason: str, steps: list[TraceStep]):
        self.steps = steps
        super().__init__(reason)


@dataclass
class _Prompts:
    """The search prompts of one run, and the CoT schemas its teacher gets (initial, refinement)."""

    templates: dict[str, str]
    formats: dict[str, str]  # "init" | "refine": the reply format each kind of turn asks for
    fix: str
    schemas: dict[str, dict]
    grammar: bool  # the teacher follows schemas exactly (a local llama.cpp model)

    @classmethod
    def load(cls, cfg: SearchConfig, teacher: ChatModel) -> "_Prompts":
        def load(name: str) -> str:
            return load_prompt(f"search/{name}", lang=cfg.lang, override=cfg.prompts)

        templates = {n: load(n) for n in ["init", *STRATEGIES, "label_hint"]}
        formats = {"init": render(load("format")), "refine": render(load("format_refinement"))}
        schemas = {"init": cot_schema(teacher, max_tokens=cfg.max_tokens),
                   "refine": cot_schema(teacher, refinement=True, max_tokens=cfg.max_tokens)}
        return cls(templates, formats, load("fix_reply"), schemas, grammar_backed(teacher))

    def render(self, name: str, **values: str) -> str:
        return render(self.templates[name], format=self.formats["init" if name == "init" else "refine"], **values)


@dataclass
class _State:
    """One problem's search so far."""

    problem: Problem
    steps: list[TraceStep] = field(default_factory=list)
    calls: int = 0


async def search_one(problem: Problem, cfg: SearchConfig, teacher: ChatModel, verifier: Verifier,
                     prompts: _Prompts | None = None) -> SearchTrace:
    """Algorithm 1 on one problem: a trace that found a verified answer, or one that was discarded."""
    prompts = prompts or _Prompts.load(cfg, teacher)
    rng = random.Random(f"{cfg.seed}:{problem.id}")
    state = _State(problem)
    path: list[CoTStep] = []
    for attempt in range(cfg.max_attempts):
        path = []
        for depth in range(cfg.max_depth + 1):
            if depth == 0:
                strategy, prompt = "init", prompts.render("init", question=problem.question)
            else:
                strategy = rng.choice(cfg.allowed(depth))
                # the teacher continues the path from before its last Verification, which it rewrites
                prompt = prompts.render(strategy, question=problem.question, previous=cot_json(path[:-1]))
            step = await _step(state, cfg, teacher, verifier, prompts, prompt, strategy, attempt, depth)
            path = step.cot if depth == 0 else path[:-1] + step.cot
            if step.verdict:
                return _trace(state, cfg, found=True)
    if cfg.label_hint:
        # a refinement of the last attempt's path, told the answer (as in the paper's scripts)
        prompt = prompts.render("label_hint", question=problem.question, previous=cot_json(path[:-1]),
                                answer=problem.answer)
        # A grammar-backed (local) teacher is held to stating the reference as its conclusion here.
        schema = grammar_cot_schema(problem.answer, refinement=True, max_tokens=cfg.max_tokens) \
            if prompts.grammar else None
        step = await _step(state, cfg, teacher, verifier, prompts, prompt, "label_hint",
                           cfg.max_attempts - 1, cfg.max_depth + 1, schema=schema)
        if step.verdict:
            return _trace(state, cfg, found=True, label_hint=True)
    return _trace(state, cfg, found=False)


async def _step(state: _State, cfg: SearchConfig, teacher: ChatModel, verifier: Verifier, prompts: _Prompts,
                prompt: str, strategy: str, attempt: int, depth: int, schema: dict | None = None) -> TraceStep:
    """One teacher call (re-asked while invalid) and the verdict on its conclusion."""
    tag = f"search.{strategy}"
    kind = "init" if strategy == "init" else "refine"
    parse = parse_cot if kind == "init" else parse_refinement
    try:
        cot, usage, calls = await ask_parsed(
            teacher, [{"role": "user", "content": prompt}], parse, tag=tag, max_tokens=cfg.max_tokens,
            temperature=cfg.temperature, seed=call_seed(cfg.seed, state.problem.id, attempt, depth),
            json_schema=schema or prompts.schemas[kind], retries=cfg.retries, fix_template=prompts.fix,
        )
    except ReplyError as err:
        raise SearchFailed(f"{tag} (attempt {attempt}, depth {depth}): {err}", state.steps) from None
    except Medo1Error as err:
        raise SearchFailed(f"{tag} (attempt {attempt}, depth {depth}): {type(err).__name__}: {err}",
                           state.steps) from None
    state.calls += calls
    conclusion = conclusion_of(cot)
    step = TraceStep(attempt=attempt, depth=depth, strategy=strategy, tag=tag, cot=cot, conclusion=conclusion,
                     usage=usage)
    state.steps.append(step)
    try:
        step.verdict = await verifier.verify(conclusion, state.problem.answer)
    except Medo1Error as err:
        raise SearchFailed(f"verify (attempt {attempt}, depth {depth}): {type(err).__name__}: {err}",
                           state.steps) from None
    return step


def _trace(state: _State, cfg: SearchConfig, *, found: bool, label_hint: bool = False) -> SearchTrace:
    problem = state.problem
    return SearchTrace(
        id=problem.id, question=problem.question, answer=problem.answer, found=found, label_hint=label_hint,
        steps=state.steps, seed=cfg.seed, problem=problem,
        meta={"strategies": [s.strategy for s in state.steps], "teacher_calls": state.calls},
    )


# ---------------------------------------------------------------- the stage


async def search(
    problems: Iterable[Problem],
    out: str | os.PathLike,
    cfg: SearchConfig,
    *,
    teacher: ChatModel,
    verifier: Verifier,
    concurrency: int = 32,
    retry_failed: bool = False,
    progress: bool = True,
) -> SearchSummary:
    """Search every problem, appending to `out` (found and discarded traces) and `<out>.failed.jsonl`."""
    problems = list(problems)
    prompts = _Prompts.load(cfg, teacher)
    pool = CallPool(concurrency)
    pooled_teacher = pool.wrap(teacher)
    judge_model = verifier_model(verifier)
    if isinstance(verifier, JudgeVerifier):
        verifier = verifier.with_model(pool.wrap(verifier.model))
    usage = StageUsage([teacher, judge_model])
    summary = SearchSummary(input=len(problems))
    output = StageOutput(out, retry_failed=retry_failed)
    with output, usage.recorded(out, "search", summary):
        todo, seen = [], set()
        for problem in problems:
            if output.done(problem.id) or problem.id in seen:
                summary.skipped += 1
            else:
                todo.append(problem)
            seen.add(problem.id)

        with StageProgress("search", len(todo), ["found", "discarded", "failed"], usage, enabled=progress) as bar:

            async def work(_: int, problem: Problem) -> None:
                try:
                    trace = await search_one(problem, cfg, pooled_teacher, verifier, prompts)
                except SearchFailed as err:
                    output.fail(problem.id, str(err), question=problem.question,
                                steps=[s.model_dump(mode="json") for s in err.steps])
                    summary.failed += 1
                    bar.count("failed")
                    return
                output.write(trace)
                if trace.found:
                    summary.found += 1
                    summary.label_hint += trace.label_hint
                    bar.count("found")
                else:
                    summary.discarded += 1
                    bar.count("discarded")

            await run_items(todo, work, window=max(16 * concurrency, 64))
    return summary


def search_file(
    problems: str | os.PathLike,
    out: str | os.PathLike,
    cfg: SearchConfig,
    *,
    teacher: str = "embedded",
    verifier: str = "match",
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    retry_failed: bool = False,
    limit: int | None = None,
    progress: bool = True,
    verdict_log: str | os.PathLike | None = None,  # append every judge verdict here
) -> SearchSummary:
    """`medo1 search`: read problems (ours or medical-o1 fields), load teacher and verifier, run."""
    from medo1.llm import load_model
    from medo1.verify import load_verifier

    items: Sequence[Problem] = read_jsonl(problems, Problem)
    if limit is not None:
        items = items[:limit]
    teacher_model = load_model(teacher, concurrency=concurrency, cache=cache)
    judge = load_verifier(verifier, concurrency=concurrency, cache=cache, lang=cfg.lang, prompts=cfg.prompts,
                          verdict_log=verdict_log, source="search")

    async def main() -> SearchSummary:
        try:
            return await search(items, out, cfg, teacher=teacher_model, verifier=judge, concurrency=concurrency,
                                retry_failed=retry_failed, progress=progress)
        finally:
            await _close(teacher_model, verifier_model(judge))

    return asyncio.run(main())


async def _close(*models: Any) -> None:
    for model in {id(m): m for m in models if m is not None}.values():
        await model.aclose()
