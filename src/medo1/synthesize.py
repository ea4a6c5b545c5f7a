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
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from medo1.cot import ReplyError, ask_parsed, call_seed, cot_text, extract_json, get_key, grammar_backed
from medo1.errors import Medo1Error
from medo1.jsonl import StageOutput, read_jsonl
from medo1.llm.base import ChatModel
from medo1.pool import CallPool, StageProgress, StageUsage, run_items
from medo1.prompts import load_prompt, render
from medo1.records import SearchTrace, SFTExample, content_id
from medo1.thinking import FINAL_HEADER, THINKING_HEADER

VARIANTS = ("complex", "simple", "direct", "mcq")
REASONING_SCHEMA = {
    "type": "object",
    "properties": {"NaturalReasoning": {"type": "string"}},
    "required": ["NaturalReasoning"],
    "additionalProperties": False,
}


def reasoning_schema(model: ChatModel, min_lines: int) -> dict:
    """For grammar-backed models, a schema that forces at least `min_lines` lines of at most 160
    characters (JSON `\\n\\n` between runs of plain text): a small local model can then neither write
    one long line nor ramble past its token budget."""
    if not grammar_backed(model):
        return REASONING_SCHEMA
    line = r'[^"\\\n]{10,160}'
    pattern = rf"^{line}(\\n\\n{line}){{{max(min_lines - 1, 0)},{max(min_lines, 3)}}}$"
    return {"type": "object", "properties": {"NaturalReasoning": {"type": "string", "pattern": pattern}},
            "required": ["NaturalReasoning"], "additionalProperties": False}


@dataclass
class SynthConfig:
    variant: str = "complex"  # complex | simple | direct | mcq
    min_lines: int = 2  # the natural reasoning must have at least this many separate thoughts (lines)
    max_repeated: float = 0.3  # a reply with more than this share of repeated text (a loop) is re-asked
    temperature: float = 0.0
    seed: int = 0  # sampled calls (temperature > 0) get a seed from this and the trace: re-runs are reproducible
    max_tokens: int = 2048  # budget of each teacher reply
    retries: int = 2  # re-asks after an invalid reply
    lang: str = "en"
    prompts: str | None = None

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise Medo1Error(f"unknown SFT variant {self.variant!r}; choose from {', '.join(VARIANTS)}")


@dataclass
class SynthSummary:
    input: int = 0
    skipped: int = 0
    written: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class NotSynthesized(Medo1Error):
    """A trace that gives no example of this variant (the message says why)."""


def example_id(trace_id: str, variant: str) -> str:
    return content_id("sft", trace_id, variant)


# ---------------------------------------------------------------- parsing the teacher's replies


def repeated_share(text: str, n: int = 16) -> float:
    """The share of the text's n-character sequences that already occurred earlier in it (0: none, ~1: a
    loop). Written text scores near 0 at any length (this module's docs: 0.001); loops of a small model
    ("I will check. I will check.", "1.1.1.1.1") score 0.4 and more."""
    flat = " ".join(text.lower().split())
    grams = [flat[i:i + n] for i in range(len(flat) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def check_not_looping(text: str, limit: float) -> None:
    """Small teachers fall into loops ("I will check. I will check. ..."); training on them teaches the loop."""
    share = repeated_share(text)
    if share > limit:
        raise ReplyError(f"the text repeats itself ({share:.0%} of it repeats earlier text); "
                         "write each thought once")


def reasoning_parser(min_lines: int, max_repeated: float = 1.0):
    def parse(text: str) -> str:
        value = extract_json(text)
        reasoning = get_key(value, "NaturalReasoning", "natural_reasoning", "reasoning") \
            if isinstance(value, dict) else None
        if not isinstance(reasoning, str) or not reasoning.strip():
            raise ReplyError('expected {"NaturalReasoning": "<text>"} with non-empty text')
        lines = [line.strip() for line in reasoning.strip().splitlines() if line.strip()]
        if len(lines) < min_lines:
            raise ReplyError(f"the reasoning must put each thought on its own line ({len(lines)} line(s), "
                             f"at least {min_lines} needed)")
        check_not_looping(reasoning, max_repeated)
        return "\n\n".join(lines)

    return parse


_HEADERS = re.compile(rf"^\s*(?:{re.escape(THINKING_HEADER)}|{re.escape(FINAL_HEADER)})\s*$",
                      re.IGNORECASE | re.MULTILINE)


def response_parser(max_repeated: float = 1.0):
    def parse(text: str) -> str:
        text = _HEADERS.sub("", text or "").strip()
        if not text:
            raise ReplyError("the response is empty")
        check_not_looping(text, max_repeated)
        return text

    return parse




# ---------------------------------------------------------------- one trace


async def synthesize_one(trace: SearchTrace, cfg: SynthConfig, teacher: ChatModel | None) -> SFTExample:
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
    path = trace.successful_path()
    fix = load_prompt("synth/fix_reply", lang=cfg.lang, override=cfg.prompts)
    if cfg.variant == "simple":
        first = path[0]
        if not first.verdict:
            raise NotSynthesized("the initial CoT's conclusion was not verified correct (simple keeps only "
                                 "(e0, y0) pairs whose y0 is correct)")
        thinking = cot_text(first.cot)
    else:
        trajectory = cot_text([step for s in path for step in s.cot])
        prompt = render(load_prompt("synth/natural_reasoning", lang=cfg.lang, override=cfg.prompts),
                        question=trace.question, trajectory=trajectory)
        thinking, _, _ = await ask_parsed(
            teacher, [{"role": "user", "content": prompt}], reasoning_parser(cfg.min_lines, cfg.max_repeated),
            tag="synth.cot",
            max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=call_seed(cfg.seed, trace.id, 0, 0),
            json_schema=reasoning_schema(teacher, cfg.min_lines),
            retries=cfg.retries, fix_template=fix,
        )
    prompt = render(load_prompt("synth/response", lang=cfg.lang, override=cfg.prompts),
                    question=trace.question, thinking=thinking)
    response, _, _ = await ask_parsed(
        teacher, [{"role": "user", "content": prompt}], response_parser(cfg.max_repeated), tag="synth.response",
        max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=call_seed(cfg.seed, trace.id, 0, 1),
        retries=cfg.retries, fix_template=fix,
    )
    return SFTExample(question=trace.question, complex_cot="" if cfg.variant == "direct" else thinking,
                      response=response, **common)


# ---------------------------------------------------------------- the stage


async def synthesize(
    traces: Iterable[SearchTrace],
    out: str | os.PathLike,
    cfg: SynthConfig,
    *,
    teacher: ChatModel | None,
    concurrency: int = 32,
    retry_failed: bool = False,
    official: bool = False,
    progress: bool = True,
) -> SynthSummary:
    """Write one SFT example per usable trace to `out`; the rest to `<out>.failed.jsonl`."""
    traces = list(traces)
    if cfg.variant != "mcq" and teacher is None:
        raise Medo1Error(f"synthesize --variant {cfg.variant} needs a teacher model")
    pool = CallPool(concurrency)
    pooled = pool.wrap(teacher) if teacher is not None else None
    usage = StageUsage([teacher] if teacher is not None else [])
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
                    example = await synthesize_one(trace, cfg, pooled)
                except Medo1Error as err:
                    reason = str(err) if isinstance(err, NotSynthesized) else f"{type(err).__name__}: {err}"
                    output.fail(trace.id, reason, variant=cfg.variant)
                    summary.failed += 1
                    bar.count("failed")
                    return
                output.write(example)
                summary.written += 1
                bar.count("written")

            await run_items(todo, work, window=max(4 * concurrency, 16))
    if official:
        write_official(out)
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
    concurrency: int = 32,
    cache: bool | str | os.PathLike = True,
    retry_failed: bool = False,
    official: bool = False,
    progress: bool = True,
) -> SynthSummary:
    """`medo1 synthesize`: read traces, load the teacher (not needed for mcq), run."""
    from medo1.llm import load_model

    items = read_jsonl(traces, SearchTrace)
    model = load_model(teacher, concurrency=concurrency, cache=cache) if cfg.variant != "mcq" and teacher else None

    async def main() -> SynthSummary:
        try:
            return await synthesize(items, out, cfg, teacher=model, concurrency=concurrency,
                                    retry_failed=retry_failed, official=official, progress=progress)
        finally:
            if model is not None:
                await model.aclose()

    return asyncio.run(main())
