"""Stage 0: multiple-choice questions -> open-ended verifiable problems.

Each question goes through the funnel, cheapest check first, and stops at the first
that drops it:

    rule        too short, negated ("NOT", "EXCEPT", "incorrect"), "all of the following",
                or multi-answer options ("all of the above", "A and B", "1, 2 and 3")
    difficulty  every difficulty model answers it correctly (paper: 3 small models)
    filter      the teacher labels it Too Simple / Ambiguous Answer / Not Reformulatable
    reformat    the teacher's rewrite to {question, answer} is unusable, or its answer is
                not the correct option (`reformat: rule` and `options` rewrite without a model;
                `options` keeps the lettered options and makes the correct letter the answer)

Survivors go to `problems.jsonl` (lineage: source, source id, the original question,
options and answer, and the MCQ's own `meta`, e.g. a file's extra columns; see
`problem_meta`); every other input id goes to `problems.rejected.jsonl` with the stage
and the reason. A re-run skips ids already in either file.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from medo1.curate_rules import rule_reason, rule_rewrite, stem_length
from medo1.errors import Medo1Error
from medo1.jsonl import StageOutput, read_jsonl
from medo1.llm.base import ChatModel
from medo1.pool import CallPool, StageProgress, StageUsage, run_items
from medo1.prompts import load_prompt, render
from medo1.reasoning.cot import (
    ReplyError,
    ask_parsed,
    extract_json,
    get_key,
    grammar_backed,
)
from medo1.records import MCQ, Problem, content_id
from medo1.verify import MatchVerifier

LABELS = ("Pass", "Too Simple", "Ambiguous Answer", "Not Reformulatable")
REFORMATS = ("llm", "rule", "options")
STAGES = ("rule", "difficulty", "filter", "reformat")

LABEL_SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": list(LABELS)}},
    "required": ["label"],
    "additionalProperties": False,
}
REWRITE_SCHEMA = {
    "type": "object",
    "properties": {
        "Open-ended Verifiable Question": {"type": "string"},
        "Standard Answer": {"type": "string"},
    },
    "required": ["Open-ended Verifiable Question", "Standard Answer"],
    "additionalProperties": False,
}


def rewrite_schema(model: ChatModel) -> dict:
    """Grammar-backed models also get minimum lengths, so a small model cannot leave a field empty."""
    if not grammar_backed(model):
        return REWRITE_SCHEMA
    props = {"Open-ended Verifiable Question": {"type": "string", "minLength": 20},
             "Standard Answer": {"type": "string", "minLength": 2}}
    return {**REWRITE_SCHEMA, "properties": props}


@dataclass
class CurateConfig:
    """Settings of stage 0. The paper drops short, negated and multi-answer questions, those
    that all of 3 small models answer, and those its LLM filter does not label Pass."""

    min_words: int = field(default=10, metadata={
        "help": "Stems shorter than this many words are dropped (CJK characters count as words)."})
    rule_filter: bool = field(default=True, metadata={
        "help": "Drop short, negated (NOT / EXCEPT / incorrect) and multi-answer questions."})
    difficulty_max_tokens: int = field(default=256, metadata={"help": "Answer budget of each difficulty model."})
    llm_filter: bool = field(default=True, metadata={
        "help": "The teacher labels each question Pass / Too Simple / Ambiguous Answer / Not Reformulatable; "
                "only Pass continues."})
    reformat: str = field(default="llm", metadata={
        "help": "llm: the teacher rewrites the question as an open-ended one with a short answer (JSON); "
                "rule: the stem asked directly and the correct option's text, no model; options: the question "
                "with its lettered options as evaluation asks it, and the correct letter as the answer (for the "
                "`option` verifier: RL without a judge).", "choices": list(REFORMATS)})
    check_answer: bool = field(default=True, metadata={
        "help": "The rewrite's answer must match the correct option's text."})
    max_tokens: int = field(default=1024, metadata={"help": "Budget of each teacher call."})
    retries: int = field(default=2, metadata={"help": "Re-asks after an invalid structured reply."})
    max_answer_words: int = field(default=30, metadata={
        "help": "Longest standard answer in words (a short, verifiable answer)."})
    only_split: str | None = field(default=None, metadata={
        "help": "Keep only input questions of this split (e.g. train).", "aliases": ["--split"]})
    lang: str = field(default="en", metadata={"help": "Prompt language: en or zh.", "choices": ["en", "zh"]})
    prompts: str | None = field(default=None, metadata={"help": "A folder overriding the bundled prompt templates."})

    def __post_init__(self) -> None:
        if self.reformat not in REFORMATS:
            raise Medo1Error(f"reformat must be one of {', '.join(REFORMATS)}, got {self.reformat!r}")

    @property
    def needs_teacher(self) -> bool:
        return self.llm_filter or self.reformat == "llm"


@dataclass
class CurateSummary:
    input: int = 0
    skipped: int = 0  # done by an earlier run
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {stage: 0 for stage in STAGES})
    errors: int = 0  # model failures (recorded in the rejected file, stage "error")

    def as_dict(self) -> dict[str, Any]:
        return {"input": self.input, "skipped": self.skipped, "kept": self.kept, "dropped": dict(self.dropped),
                "errors": self.errors}


class Rejected(Exception):
    """An MCQ leaves the funnel at `stage` for `reason`."""

    def __init__(self, stage: str, reason: str, **details: Any):
        self.stage, self.reason, self.details = stage, reason, details
        super().__init__(reason)


# ---------------------------------------------------------------- model steps


def format_options(options: dict[str, str]) -> str:
    return "\n".join(f"{letter}. {text}" for letter, text in options.items())


async def difficulty_answers(mcq: MCQ, models: Sequence[ChatModel], cfg: CurateConfig) -> dict[str, str | None]:
    """The option letter each difficulty model picks (None: it picked nothing readable)."""
    from medo1.verify.extract import extract_answer

    template = load_prompt("curate/difficulty", lang=cfg.lang, override=cfg.prompts)
    prompt = render(template, question=mcq.question, options=format_options(mcq.options))
    messages = [{"role": "user", "content": prompt}]
    replies = await asyncio.gather(*(
        m.chat(messages, max_tokens=cfg.difficulty_max_tokens, temperature=0.0, tag="curate.difficulty")
        for m in models
    ))
    return {m.name: extract_answer(r.text, mcq.options).letter for m, r in zip(models, replies)}


def parse_label(text: str) -> str:
    """One of the four labels, from `{"label": ...}` or a bare label; anything else is a ReplyError."""
    try:
        value = extract_json(text)
        said = get_key(value, "label") if isinstance(value, dict) else value
    except ReplyError:
        said = text
    if not isinstance(said, str):
        raise ReplyError('expected {"label": "<label>"}')
    plain = re.sub(r"[^a-z ]", "", said.lower()).strip()
    for label in LABELS:
        if plain == label.lower():
            return label
    raise ReplyError(f"the label must be one of {', '.join(LABELS)}; got {said[:60]!r}")


def rewrite_parser(mcq: MCQ, cfg: CurateConfig):
    """A parser of the teacher's rewrite that checks it against the original MCQ."""
    match = MatchVerifier()
    correct = mcq.answer_text

    def parse(text: str) -> tuple[str, str]:
        value = extract_json(text)
        if not isinstance(value, dict):
            raise ReplyError('expected a JSON object with "Open-ended Verifiable Question" and "Standard Answer"')
        question = get_key(value, "Open-ended Verifiable Question", "question")
        answer = get_key(value, "Standard Answer", "Ground-True Answer", "answer")
        if not isinstance(question, str) or not question.strip():
            raise ReplyError('"Open-ended Verifiable Question" must be non-empty text')
        if not isinstance(answer, str) or not answer.strip():
            raise ReplyError('"Standard Answer" must be non-empty text')
        question, answer = question.strip(), answer.strip()
        if len(re.findall(r"(?m)^\s*\(?[A-E][.)]\s", question)) >= 2:
            raise ReplyError("the question must not list the options")
        if stem_length(answer) > cfg.max_answer_words:
            raise ReplyError(f"the standard answer must be a short phrase (got {stem_length(answer)} words)")
        if cfg.check_answer and not (match.check(answer, correct) or match.check(correct, answer)):
            raise ReplyError(f"the standard answer {answer!r} is not the correct option ({correct!r})")
        return question, answer

    return parse


def options_rewrite(mcq: MCQ, cfg: CurateConfig) -> tuple[str, str]:
    """`reformat: options`, no model: the question with its lettered options, worded as evaluation asks it
    (prompts `eval/free`), and the correct letter as the answer; the `option` verifier checks that letter."""
    template = load_prompt("eval/free", lang=cfg.lang, override=cfg.prompts)
    return render(template, question=mcq.question.strip(), options=format_options(mcq.options)).strip(), mcq.answer


# ---------------------------------------------------------------- one question through the funnel


async def curate_one(mcq: MCQ, cfg: CurateConfig, teacher: ChatModel | None,
                     difficulty_models: Sequence[ChatModel]) -> Problem:
    """The problem made from one MCQ, or Rejected(stage, reason)."""
    meta: dict[str, Any] = {"original_question": mcq.question}  # curate's notes; see problem_meta
    if mcq.subject:
        meta["subject"] = mcq.subject
    if cfg.rule_filter:
        reason = rule_reason(mcq, cfg.min_words)
        if reason:
            raise Rejected("rule", reason)
    if difficulty_models:
        answers = await difficulty_answers(mcq, difficulty_models, cfg)
        meta["difficulty_answers"] = answers
        if all(letter == mcq.answer for letter in answers.values()):
            raise Rejected("difficulty", f"all {len(answers)} difficulty models answered correctly",
                           answers=answers)
    fix = load_prompt("curate/fix_reply", lang=cfg.lang, override=cfg.prompts)
    if cfg.llm_filter:
        prompt = render(load_prompt("curate/filter", lang=cfg.lang, override=cfg.prompts), question=mcq.question,
                        options=format_options(mcq.options), answer=f"{mcq.answer}. {mcq.answer_text}")
        try:
            label, _, _ = await ask_parsed(
                teacher, [{"role": "user", "content": prompt}], parse_label, tag="curate.filter",
                max_tokens=cfg.max_tokens, json_schema=LABEL_SCHEMA, retries=cfg.retries, fix_template=fix,
            )
        except ReplyError as err:
            raise Rejected("filter", f"no usable label: {err}") from None
        meta["filter_label"] = label
        if label != "Pass":
            raise Rejected("filter", f"labelled {label!r}", label=label)
    if cfg.reformat == "llm":
        prompt = render(load_prompt("curate/reformat", lang=cfg.lang, override=cfg.prompts), question=mcq.question,
                        options=format_options(mcq.options), answer=f"{mcq.answer}. {mcq.answer_text}")
        try:
            (question, answer), _, _ = await ask_parsed(
                teacher, [{"role": "user", "content": prompt}], rewrite_parser(mcq, cfg), tag="curate.reformat",
                max_tokens=cfg.max_tokens, json_schema=rewrite_schema(teacher), retries=cfg.retries,
                fix_template=fix,
            )
        except ReplyError as err:
            raise Rejected("reformat", str(err)) from None
    elif cfg.reformat == "options":
        question, answer = options_rewrite(mcq, cfg)
    else:
        question, answer = rule_rewrite(mcq)
    meta["reformat"] = cfg.reformat
    return Problem(
        id=problem_id(mcq), question=question, answer=answer, source=mcq.source, source_id=mcq.source_id,
        mcq_id=mcq.id, options=dict(mcq.options), original_answer=mcq.answer, meta=problem_meta(mcq, meta),
    )


def problem_meta(mcq: MCQ, notes: dict[str, Any]) -> dict[str, Any]:
    """The MCQ's meta (lineage: e.g. an input's `difficulty` column, MedMCQA's `exp`) under the same
    keys, plus curate's notes (`original_question`, `subject`, `difficulty_answers`, `filter_label`,
    `reformat`). The notes win: later stages read them (synthesis starts from `original_question`);
    an MCQ key that a note takes with another value is kept as `mcq_<key>`, so nothing is lost."""
    meta = {f"mcq_{k}" if k in notes and notes[k] != v else k: v for k, v in mcq.meta.items()}
    return {**meta, **notes}


def problem_id(mcq: MCQ) -> str:
    """A problem's id comes from its source MCQ, so re-runs recognise it whatever the rewrite says."""
    return content_id("prob", mcq.id)


# ---------------------------------------------------------------- the stage


async def curate(
    mcqs: Iterable[MCQ],
    out: str | os.PathLike,
    cfg: CurateConfig,
    *,
    teacher: ChatModel | None = None,
    difficulty_models: Sequence[ChatModel] = (),
    concurrency: int = 32,
    retry_failed: bool = False,
    progress: bool = True,
) -> CurateSummary:
    """Run stage 0 over `mcqs`, appending to `out` and `<out>.rejected.jsonl`; resumable."""
    if cfg.needs_teacher and teacher is None:
        raise Medo1Error("curate: the LLM filter and the LLM rewrite need a teacher model (or use "
                         "--no-llm-filter --reformat rule)")
    mcqs = [m for m in mcqs if cfg.only_split is None or m.split == cfg.only_split]
    pool = CallPool(concurrency)
    pooled_teacher = pool.wrap(teacher) if teacher is not None else None
    pooled_difficulty = [pool.wrap(m) for m in difficulty_models]
    summary = CurateSummary(input=len(mcqs))
    usage = StageUsage([m for m in [teacher, *difficulty_models] if m is not None])
    seen: set[str] = set()
    output = StageOutput(out, failed_kind="rejected", retry_failed=retry_failed)
    with output, usage.recorded(out, "curate", summary):
        todo = []
        for mcq in mcqs:
            if output.done(problem_id(mcq)) or output.done(mcq.id) or mcq.id in seen:
                summary.skipped += 1
            else:
                todo.append(mcq)
            seen.add(mcq.id)

        with StageProgress("curate", len(todo), ["kept", "dropped", "errors"], usage, enabled=progress) as bar:

            async def work(_: int, mcq: MCQ) -> None:
                lineage = {"source": mcq.source, "source_id": mcq.source_id}
                try:
                    problem = await curate_one(mcq, cfg, pooled_teacher, pooled_difficulty)
                except Rejected as rej:
                    output.fail(mcq.id, rej.reason, stage=rej.stage, **lineage, **rej.details)
                    summary.dropped[rej.stage] += 1
                    bar.count("dropped")
                    return
                except Medo1Error as err:  # a model that failed for good: recorded, the run goes on
                    output.fail(mcq.id, f"{type(err).__name__}: {err}", stage="error", **lineage)
                    summary.errors += 1
                    bar.count("errors")
                    return
                output.write(problem)
                summary.kept += 1
                bar.count("kept")

            await run_items(todo, work, window=max(4 * concurrency, 16))
    return summary


def curate_file(
    input: str | os.PathLike,
    out: str | os.PathLike,
    cfg: CurateConfig,
    *,
    teacher: str | None = "embedded",
    difficulty_models: Sequence[str] = (),
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    retry_failed: bool = False,
    progress: bool = True,
    cop_base: int | None = None,
) -> CurateSummary:
    """`medo1 curate`: read MCQs (ours, MedQA or MedMCQA fields), load the models, run the stage.

    `cop_base` states where MedMCQA `cop` counts from (0: hub, 1: original); None detects it per file."""
    from medo1.llm import load_model

    mcqs = read_jsonl(input, MCQ, cop_base=cop_base)
    if Path(out).resolve() == Path(input).resolve():
        raise Medo1Error(f"{out}: the output must not be the input file")
    teacher_model = load_model(teacher, concurrency=concurrency, cache=cache) if cfg.needs_teacher else None
    judges = [load_model(spec, concurrency=concurrency, cache=cache) for spec in difficulty_models]

    async def main() -> CurateSummary:
        try:
            return await curate(mcqs, out, cfg, teacher=teacher_model, difficulty_models=judges,
                                concurrency=concurrency, retry_failed=retry_failed, progress=progress)
        finally:
            for model in {id(m): m for m in [teacher_model, *judges] if m is not None}.values():
                await model.aclose()

    return asyncio.run(main())
