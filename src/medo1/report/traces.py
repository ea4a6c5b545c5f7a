"""The trace viewer: for a few problems, the search as it happened and the SFT example it became.

Each problem shows every teacher call of the search (attempt, refinement depth, strategy, the chain of
thought it wrote, its conclusion, the verifier's verdict) next to what synthesis made of the successful
path (the SFT example's thinking and final response), or why no example was kept (sft.failed.jsonl,
traces.failed.jsonl), so a reader can judge the training data with their own eyes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from medo1.records import SearchTrace
from medo1.report.facts import jsonl
from medo1.thinking import format_target

STRATEGIES = {"init": "initial reasoning", "explore_new_paths": "explore new paths", "backtracking": "backtracking",
              "verification": "verification", "correction": "correction",
              "label_hint": "label hint (told the reference answer)"}
CONTENT_CHARS = 700  # of one CoT step
EXAMPLE_CHARS = 4000  # of one SFT example


@dataclass
class Shown:
    """One problem in the viewer."""

    trace: SearchTrace
    examples: list[dict[str, Any]] = field(default_factory=list)  # its SFT examples (one per variant)
    dropped: str | None = None  # why synthesis kept no example
    outcome: str = ""  # one line: kept / dropped / no correct path


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + f" … [{len(text) - limit} more characters]"


def pick(root: Path, k: int = 3) -> list[Shown]:
    """Up to k problems: those that became SFT examples (the longest searches first), and one that did not."""
    traces = []
    for row in jsonl(root / "traces.jsonl"):
        try:
            traces.append(SearchTrace.model_validate(row))
        except ValidationError:
            continue  # a trace of another version: the viewer shows what it can read
    examples: dict[str, list[dict[str, Any]]] = {}
    for ex in jsonl(root / "sft.jsonl"):
        examples.setdefault(ex.get("problem_id") or "", []).append(ex)
    dropped = {row.get("id"): row.get("reason", "") for row in jsonl(root / "sft.failed.jsonl")}

    def by_length(ts: list[SearchTrace]) -> list[SearchTrace]:
        return sorted(ts, key=lambda t: (-len(t.steps), t.id))

    kept = by_length([t for t in traces if t.id in examples])
    others = by_length([t for t in traces if t.found and t.id not in examples]) + by_length(
        [t for t in traces if not t.found])
    chosen = kept[: k - 1] + others[:1]
    chosen += [t for t in kept[k - 1:] + others[1:] if t not in chosen][: k - len(chosen)]
    shown = []
    for t in chosen:
        item = Shown(t, examples.get(t.id, []), dropped.get(t.id))
        if item.examples:
            item.outcome = f"kept: {len(item.examples)} SFT example{'s' if len(item.examples) > 1 else ''}"
        elif t.found and not (root / "sft.jsonl").exists():
            item.outcome = "found: synthesis has not run yet"
        elif t.found:
            item.outcome = "found, then dropped by synthesis" + (f": {item.dropped}" if item.dropped else "")
        else:
            item.outcome = f"discarded: no correct path in {len(t.steps)} teacher calls"
        shown.append(item)
    return shown


def _source(t: SearchTrace) -> str:
    """Where the problem came from: ' (from sample-044 of medo1-sample, option C of 5)', or ''."""
    p = t.problem
    if p is None or not (p.source_id or p.options):
        return ""
    where = f"{p.source_id} of {p.source}" if p.source_id else p.source
    option = f", option {p.original_answer} of {len(p.options)}" if p.options and p.original_answer else ""
    return f" (from {where}{option})"


def _step_title(i: int, step) -> str:
    verdict = {True: "correct", False: "wrong", None: "no verdict"}[step.verdict]
    return (f"Call {i}: attempt {step.attempt + 1}, {'refinement ' + str(step.depth) if step.depth else 'start'}, "
            f"{STRATEGIES.get(step.strategy, step.strategy)} → {verdict}")


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def _target(ex: dict[str, Any]) -> str:
    return _clip(format_target(ex.get("complex_cot", ""), ex.get("response", "")), EXAMPLE_CHARS)


def viewer_markdown(shown: list[Shown]) -> str:
    parts = []
    for n, item in enumerate(shown, start=1):
        t = item.trace
        parts += [f"### Problem {n}: {item.outcome.split(':')[0]}", "", f"**Question.** {_clip(t.question, 1200)}", "",
                  f"**Reference answer.** {t.answer}{_source(t)}" + (f" — {item.outcome}" if not item.examples else ""),
                  "",
                  f"**The search** ({len(t.steps)} teacher calls):", ""]
        for i, step in enumerate(t.steps, start=1):
            lines = [f"[{s.action}]{' ' + s.title if s.title else ''}: {_clip(s.content, CONTENT_CHARS)}"
                     for s in step.cot]
            parts += [f"{i}. {_step_title(i, step)}; conclusion: “{_clip(step.conclusion, 200)}”", "",
                      _fence("\n".join(lines)), ""]
        for ex in item.examples:
            parts += [f"**The SFT example** (variant {ex.get('variant', 'complex')}):", "", _fence(_target(ex)), ""]
    return "\n".join(parts).rstrip()


def viewer_html(shown: list[Shown]) -> str:
    e = html.escape
    parts = []
    for n, item in enumerate(shown, start=1):
        t = item.trace
        steps = []
        for i, step in enumerate(t.steps, start=1):
            cot = "".join(f'<li><b>{e(s.action)}</b>{" · " + e(s.title) if s.title else ""}: '
                          f"{e(_clip(s.content, CONTENT_CHARS))}</li>" for s in step.cot)
            verdict = {True: "ok", False: "bad", None: "none"}[step.verdict]
            steps.append(f'<div class="step {verdict}"><div class="step-head">{e(_step_title(i, step))}</div>'
                         f'<ol class="cot">{cot}</ol><div class="conclusion">Conclusion: '
                         f"{e(_clip(step.conclusion, 300))}</div></div>")
        if item.examples:
            right = "".join(f'<h4>The SFT example (variant {e(str(ex.get("variant", "complex")))})</h4>'
                            f"<pre>{e(_target(ex))}</pre>" for ex in item.examples)
        else:
            right = f'<h4>No SFT example</h4><p class="why">{e(item.outcome)}</p>'
        parts.append(
            f'<article class="trace" id="problem-{n}"><h3>Problem {n}: {e(item.outcome.split(":")[0])}</h3>'
            f'<p><b>Question.</b> {e(_clip(t.question, 1200))}</p><p><b>Reference answer.</b> {e(t.answer)}{e(_source(t))}</p>'
            f'<div class="columns"><div><h4>The search ({len(t.steps)} teacher calls)</h4>{"".join(steps)}</div>'
            f"<div>{right}</div></div></article>")
    return "".join(parts)
