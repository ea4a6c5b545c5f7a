"""Stage 1, second half: successful search traces -> SFT examples.

Variants (the paper's Table 2 ablations):
    complex  the trajectory [e0, y0, ..., ei, yi] rewritten as natural first-person reasoning
             (JSON {"NaturalReasoning"}, one thought per line), then a formal response written
             from it; target `## Thinking\\n\\n{reasoning}\\n\\n## Final Response\\n\\n{response}`
    simple   the initial CoT (e0, y0) of the successful attempt as the thinking, and a formal
             response written from it; only when y0 itself was verified correct
    direct   the complex variant's response alone, no thinking (same calls, so a cached
             complex run makes it free)
    mcq      the original question with its options -> the correct option (no model)

Only traces whose search found a verified answer are used; every other trace id is
recorded in `<out>.failed.jsonl` with the reason. `--format official` also writes
`<out>.official.json` with the public fields `Question, Complex_CoT, Response`.

Answer check. A rewrite can drift from the answer the search verified (by hand labels, about
half of the public medical-o1 Responses do not commit to their reference answer). So the
prompts give the teacher the verified answer, and the run's verifier checks every reply
against it: the response, and for complex and direct also the final thought of the natural
reasoning. A reply that does not state the answer is shown back to the teacher with what is
wrong (at most `answer_retries` times); then the trace goes to `<out>.failed.jsonl` with the
reason. Each example records its re-asks in `meta["answer_check"]`; the stage summary counts
how many examples agreed at the first ask (the consistency rate), needed a re-ask, or were
dropped for drift.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from medo1.errors import Medo1Error
from medo1.jsonl import StageOutput, failed_path, read_jsonl
from medo1.llm.base import ChatModel
from medo1.pool import CallPool, StageProgress, StageUsage, run_items
from medo1.prompts import load_prompt, render
from medo1.reasoning.config import SynthConfig
from medo1.reasoning.consistency import (
    CheckFailed,
    CommittedAsker,
    Part,
    final_thought,
    short,
)
from medo1.reasoning.cot import cot_text
from medo1.reasoning.synth_replies import (
    reasoning_parser,
    reasoning_schema,
    response_parser,
    response_schema,
)
from medo1.records import SearchTrace, SFTExample, content_id
from medo1.verify import JudgeVerifier, MatchVerifier, Verifier, verifier_model


@dataclass
class SynthSummary:
    """Counts of one run of the stage. The answer check counts only examples whose replies reached a
    verdict: `checked = agreed_first + reasked + drifted`."""

    input: int = 0
    skipped: int = 0
    written: int = 0
    failed: int = 0  # every trace without an example (drift and verifier errors included)
    checked: int = 0  # examples whose replies were checked against the verified answer to a verdict
    agreed_first: int = 0  # ... whose first replies all stated it
    reasked: int = 0  # ... kept after at least one re-ask for drift
    drifted: int = 0  # ... dropped: a reply still did not state it after the re-asks
    verify_errors: int = 0  # traces failed because the verifier gave no verdict (e.g. a judge outage)

    @property
    def consistency_rate(self) -> float | None:
        """The share of checked examples whose teacher replies stated the verified answer at the first
        ask (every kept example states it; this measures how often the teacher drifts)."""
        return self.agreed_first / self.checked if self.checked else None

    def add_check(self, check: dict | None) -> None:
        """Count one `answer_check` record (from an example's meta or a failed row)."""
        if not check or "reasks" not in check:
            return
        if check.get("error"):
            self.verify_errors += 1
            return
        self.checked += 1
        if check.get("drifted"):
            self.drifted += 1
        elif any(check["reasks"].values()):
            self.reasked += 1
        else:
            self.agreed_first += 1

    def as_dict(self) -> dict[str, Any]:
        rate = self.consistency_rate
        return {**self.__dict__, "consistency_rate": None if rate is None else round(rate, 4)}


class NotSynthesized(Medo1Error):
    """A trace that gives no example of this variant (the message says why)."""


def example_id(trace_id: str, variant: str) -> str:
    return content_id("sft", trace_id, variant)


# ---------------------------------------------------------------- one trace


async def synthesize_one(trace: SearchTrace, cfg: SynthConfig, teacher: ChatModel | None,
                         verifier: Verifier | None = None) -> SFTExample:
    """One SFT example of `cfg.variant` from a trace, or NotSynthesized saying why not. With
    `cfg.check_answer`, the replies are held to the verified answer by `verifier` (default: `match`)."""
    if not trace.found:
        raise NotSynthesized("search found no verified answer for this problem")
    problem = trace.problem
    common = dict(id=example_id(trace.id, cfg.variant), variant=cfg.variant, problem_id=trace.id,
                  answer=trace.answer, source=problem.source if problem else "local",
                  meta={"label_hint": trace.label_hint})
    if cfg.variant == "mcq":
        if problem is None or not problem.options or not problem.original_answer:
            raise NotSynthesized("the trace has no MCQ lineage (options and original answer)")
        stem = problem.meta.get("original_question") or trace.question
        options = "\n".join(f"{k}. {v}" for k, v in problem.options.items())
        letter = problem.original_answer
        return SFTExample(question=f"{stem}\n\n{options}", response=f"{letter}. {problem.options[letter]}",
                          **common)
    verifier = (verifier or MatchVerifier()) if cfg.check_answer else None
    prompt_of = lambda name: load_prompt(f"synth/{name}", lang=cfg.lang, override=cfg.prompts)  # noqa: E731
    asker = CommittedAsker(teacher, trace, cfg, verifier, prompt_of("fix_answer"))
    answer_line = render(prompt_of("answer_line"), answer=" ".join(trace.answer.split())) if verifier else None
    path = trace.successful_path()
    if cfg.variant == "simple":
        first = path[0]
        if not first.verdict:
            raise NotSynthesized("the initial CoT's conclusion was not verified correct (simple keeps only "
                                 "(e0, y0) pairs whose y0 is correct)")
        thinking = cot_text(first.cot)
    else:  # complex, and direct (the same calls and checks: a cached complex run makes it free)
        trajectory = cot_text(trace.trajectory)
        prompt = render(prompt_of("natural_reasoning"), question=trace.question, trajectory=trajectory,
                        answer=trace.answer)
        thinking = await asker.ask(prompt, Part(
            "reasoning", "synth.cot", 0, reasoning_parser(cfg.min_lines, cfg.max_repeated), final_thought,
            lambda said: f"the final thought of the reasoning ({short(said)!r}) does not state it",
            prompt_of("fix_reply"), reasoning_schema(teacher, cfg.min_lines, answer_line, cfg.max_tokens)))
    prompt = render(prompt_of("response"), question=trace.question, thinking=thinking, answer=trace.answer)
    schema = response_schema(teacher, answer_line, cfg.response_max_chars)
    if schema is not None and cfg.response_max_chars == 0:
        # The grammar would allow exactly one reply, the answer line: asking for it costs a call and adds nothing.
        response = " ".join(answer_line.split())
    else:
        response = await asker.ask(prompt, Part(
            "response", "synth.response", 1, response_parser(cfg.max_repeated, json_reply=schema is not None),
            lambda text: text, lambda said: "the response does not state it as its conclusion",
            prompt_of("fix_reply" if schema else "fix_response"), schema))
    if verifier is not None:
        common["meta"]["answer_check"] = asker.record()
    return SFTExample(question=trace.question, complex_cot="" if cfg.variant == "direct" else thinking,
                      response=response, **common)


# ---------------------------------------------------------------- the stage


async def synthesize(
    traces: Iterable[SearchTrace],
    out: str | os.PathLike,
    cfg: SynthConfig,
    *,
    teacher: ChatModel | None,
    verifier: Verifier | None = None,
    concurrency: int = 32,
    retry_failed: bool = False,
    official: bool = False,
    progress: bool = True,
) -> SynthSummary:
    """Write one SFT example per usable trace to `out`; the rest to `<out>.failed.jsonl`.

    `verifier` checks the replies against each trace's verified answer (`cfg.check_answer`; default
    `match`); a judge's calls share the teacher's pool and are counted in the usage file."""
    traces = list(traces)
    if cfg.variant != "mcq" and teacher is None:
        raise Medo1Error(f"synthesize --variant {cfg.variant} needs a teacher model")
    pool = CallPool(concurrency)
    pooled = pool.wrap(teacher) if teacher is not None else None
    verifier = verifier or MatchVerifier()
    judge_model = verifier_model(verifier) if cfg.check_answer else None
    if judge_model is not None and isinstance(verifier, JudgeVerifier):
        verifier = verifier.with_model(pool.wrap(judge_model))
    usage = StageUsage([m for m in (teacher, judge_model) if m is not None])
    summary = SynthSummary(input=len(traces))
    output = StageOutput(out, retry_failed=retry_failed)
    with output, usage.recorded(out, "synthesize", summary):
        todo, seen = [], set()
        for trace in traces:
            if output.done(example_id(trace.id, cfg.variant)) or output.done(trace.id) or trace.id in seen:
                summary.skipped += 1
            else:
                todo.append(trace)
            seen.add(trace.id)

        with StageProgress(f"synthesize ({cfg.variant})", len(todo), ["written", "failed"], usage,
                           enabled=progress) as bar:

            async def work(_: int, trace: SearchTrace) -> None:
                try:
                    example = await synthesize_one(trace, cfg, pooled, verifier)
                except Medo1Error as err:
                    known = isinstance(err, (NotSynthesized, CheckFailed))
                    reason = str(err) if known else f"{type(err).__name__}: {err}"
                    extra = {"answer_check": err.check} if isinstance(err, CheckFailed) else {}
                    output.fail(trace.id, reason, variant=cfg.variant, **extra)
                    summary.add_check(extra.get("answer_check"))
                    summary.failed += 1
                    bar.count("failed")
                    return
                output.write(example)
                summary.add_check(example.meta.get("answer_check"))
                summary.written += 1
                bar.count("written")

            await run_items(todo, work, window=max(4 * concurrency, 16))
    if official:
        write_official(out)
    return summary


def answer_checks(out: str | os.PathLike) -> SynthSummary:
    """The answer-check counts of everything a synthesis output holds (all runs of the stage, resumed
    ones included): from the examples' `meta.answer_check` and the failed rows' `answer_check`."""
    summary = SynthSummary()
    for path, meta in ((Path(out), True), (failed_path(out), False)):
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a half-written last line of a killed run
            summary.add_check((row.get("meta") or {}).get("answer_check") if meta else row.get("answer_check"))
    return summary


def official_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.stem
    return out.with_name(f"{stem}.official.json")


def write_official(out: str | os.PathLike) -> Path:
    """`<out>.official.json`: every example of `out` with the public fields Question, Complex_CoT, Response."""
    rows = [{"Question": e.question, "Complex_CoT": e.complex_cot, "Response": e.response}
            for e in read_jsonl(out, SFTExample)] if Path(out).stat().st_size else []
    path = official_path(out)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def synthesize_file(
    traces: str | os.PathLike,
    out: str | os.PathLike,
    cfg: SynthConfig,
    *,
    teacher: str | None = "embedded",
    verifier: str = "match",
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    retry_failed: bool = False,
    official: bool = False,
    progress: bool = True,
    verdict_log: str | os.PathLike | None = None,  # append every judge verdict here
) -> SynthSummary:
    """`medo1 synthesize`: read traces, load the teacher and the verifier (neither needed for mcq), run."""
    from medo1.llm import load_model
    from medo1.verify import load_verifier

    items = read_jsonl(traces, SearchTrace)
    model = load_model(teacher, concurrency=concurrency, cache=cache) if cfg.variant != "mcq" and teacher else None
    checker = None
    if cfg.variant != "mcq" and cfg.check_answer:
        checker = load_verifier(verifier, concurrency=concurrency, cache=cache, lang=cfg.lang, prompts=cfg.prompts,
                                verdict_log=verdict_log, source="synthesize")

    async def main() -> SynthSummary:
        try:
            return await synthesize(items, out, cfg, teacher=model, verifier=checker, concurrency=concurrency,
                                    retry_failed=retry_failed, official=official, progress=progress)
        finally:
            judge = verifier_model(checker) if checker is not None else None
            for m in {id(m): m for m in (model, judge) if m is not None}.values():
                await m.aclose()

    return asyncio.run(main())
