"""What a run directory holds, read for the report: only files the stages wrote, so a report can be
rebuilt at any time, from a finished run or from one that stopped half-way (missing files read as empty).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medo1.thinking import parse_output

MODELS = (("base", "base (before)"), ("sft", "after SFT"), ("rl", "after RL"))
USAGE_FILES = (("curate", "problems.usage.json"), ("search", "traces.usage.json"), ("synthesize", "sft.usage.json"))
TOO_WIDE = 0.40  # a 95% interval wider than this (40 points) is "too few items to compare"
LOCAL_KINDS = ("embedded", "gguf:", "hf:")  # model specs that run on this machine: no API cost


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a half-written last line of a killed stage
    return rows


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def recipe_of(root: Path) -> dict[str, Any]:
    path = root / "recipe.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def stages_of(root: Path) -> dict[str, Any]:
    return read_json(root / "run.json").get("stages", {})


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def is_local(spec: str | None) -> bool:
    return bool(spec) and spec.startswith(LOCAL_KINDS)


def too_wide(result: dict[str, Any]) -> bool:
    """Is the 95% interval of an accuracy wider than TOO_WIDE (too few items to tell results apart)?"""
    return result.get("ci_high", 1.0) - result.get("ci_low", 0.0) > TOO_WIDE


# ---------------------------------------------------------------- data


def funnel(root: Path) -> list[tuple[str, int]]:
    traces = jsonl(root / "traces.jsonl")
    return [
        ("MCQs", len(jsonl(root / "mcq.jsonl"))),
        ("verifiable problems", len(jsonl(root / "problems.jsonl"))),
        ("search problems (after decontamination)", len(jsonl(root / "clean/search.jsonl"))),
        ("traces found", sum(1 for t in traces if t.get("found"))),
        ("  of which with the label hint", sum(1 for t in traces if t.get("found") and t.get("label_hint"))),
        ("SFT examples", len(jsonl(root / "sft.jsonl"))),
        ("RL problems (after decontamination)", len(jsonl(root / "clean/rl.jsonl"))),
    ] + ([("RL problems (kept by pass rate)", len(jsonl(root / "passrate/rl.jsonl")))]
         if (root / "passrate/rl.jsonl").exists() else [])


def consistency_row(root: Path) -> list[Any] | None:
    """The synthesis answer check over everything in sft.jsonl and sft.failed.jsonl (None: nothing checked)."""
    from medo1.reasoning.synthesize import answer_checks

    s = answer_checks(root / "sft.jsonl")
    if not (s.checked or s.verify_errors):
        return None
    return [s.checked, s.agreed_first, s.reasked, s.drifted, s.verify_errors, pct(s.consistency_rate)]


def hacking_warning(root: Path) -> str | None:
    """The reward-hacking watch's warning line over the RL run's metrics (medo1.train.hacking), as training
    printed it (verl: its conversion after the run), or None."""
    from medo1.train.hacking import drift_warning

    return drift_warning(jsonl(root / "ckpt/rl/metrics.jsonl"))


# ---------------------------------------------------------------- calls and cost


@dataclass
class UsageRow:
    stage: str
    tag: str
    calls: int
    cache_hits: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # USD; None when the recipe has no price for the model
    local: bool  # the model ran on this machine

    def cells(self) -> list[Any]:
        cost = "local" if self.local and self.cost is None else "-" if self.cost is None else f"${self.cost:.2f}"
        return [self.stage, self.tag, self.calls, self.cache_hits, self.errors, self.prompt_tokens,
                self.completion_tokens, cost]


def usage_rows(root: Path, recipe: dict[str, Any]) -> list[UsageRow]:
    """Calls, tokens and cost per stage and call kind (cost where the recipe gives the model's prices)."""
    models = recipe.get("models", {})
    prices = recipe.get("report", {}).get("prices", {})
    rows = []
    for stage, name in USAGE_FILES:
        for tag, t in sorted(read_json(root / name).get("by_tag", {}).items()):
            if tag.startswith("curate.difficulty"):
                specs = models.get("difficulty", [])
            elif tag == "verify":
                specs = [models.get("verifier", "").removeprefix("judge:")]
            else:
                specs = [models.get("teacher", "")]
            price = next((prices[s] for s in specs if s in prices), None)
            prompt, completion = int(t.get("prompt_tokens", 0)), int(t.get("completion_tokens", 0))
            cost = (prompt * price[0] + completion * price[1]) / 1e6 if price else None
            rows.append(UsageRow(stage, tag, int(t.get("calls", 0)), int(t.get("cache_hits", 0)),
                                 int(t.get("errors", 0)), prompt, completion, cost,
                                 all(is_local(s) for s in specs)))
    for key, label in MODELS:
        usage = read_json(root / "eval" / key / "results.json").get("usage", {})
        if usage:
            rows.append(UsageRow("eval", f"eval ({label})", int(usage.get("calls", 0)), int(usage.get("cache_hits", 0)),
                                 int(usage.get("errors", 0)), int(usage.get("prompt_tokens", 0)),
                                 int(usage.get("completion_tokens", 0)), None, True))
    return rows


def cost_line(rows: list[UsageRow]) -> str:
    """One line: what the run's model calls cost, and what of it is not priced."""
    calls = sum(r.calls for r in rows)
    tokens = sum(r.prompt_tokens + r.completion_tokens for r in rows)
    counted = f"{calls:,} model calls, {tokens:,} tokens"
    if not rows:
        return "no model calls recorded"
    priced = [r for r in rows if r.cost is not None]
    unpriced = [r for r in rows if r.cost is None and not r.local]
    if not priced and not unpriced:
        return f"no API cost: every model ran on this machine ({counted})"
    text = f"${sum(r.cost for r in priced):.2f} ({counted})" if priced else f"not priced ({counted})"
    if unpriced:
        text += (f"; {sum(r.calls for r in unpriced):,} calls have no price in the recipe "
                 "(report.prices: USD per 1M prompt and completion tokens)")
    return text


# ---------------------------------------------------------------- evaluation


def eval_results(root: Path) -> dict[str, dict[str, Any]]:
    """{model key: results.json} for the models evaluated (base, sft, rl)."""
    found = {key: read_json(root / "eval" / key / "results.json") for key, _ in MODELS}
    return {key: r for key, r in found.items() if r.get("benches")}


def eval_outputs(root: Path, key: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "eval" / key).glob("*.items.jsonl")):
        rows += jsonl(path)
    return rows


STEP_LABELS = {"base": "base", "sft": "SFT", "rl": "RL"}


def paired_steps(root: Path) -> list[tuple[str, str, Any]]:
    """(benchmark, "base → SFT", its PairedTest) for each step between evaluated models, on the questions both
    answered (medo1.evaluate.paired: exact McNemar on greedy answers, a paired bootstrap with several)."""
    from medo1.evaluate.paired import paired_tests

    keys = list(eval_results(root))
    out = []
    for before, after in zip(keys, keys[1:]):
        for bench, test in paired_tests(eval_outputs(root, before), eval_outputs(root, after)).items():
            out.append((bench, f"{STEP_LABELS[before]} → {STEP_LABELS[after]}", test))
    return out


def output_stats(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Format rate (thinking + final response present) and mean thinking length in words."""
    if not rows:
        return {"format_rate": None, "thinking_words": None, "n": 0}
    parsed = [parse_output(r.get("output", "")) for r in rows]
    thinking = [len(p.thinking.split()) for p in parsed if p.thinking]
    return {
        "format_rate": sum(p.well_formed for p in parsed) / len(parsed),
        "thinking_words": sum(thinking) / len(thinking) if thinking else 0.0,
        "n": len(rows),
    }


# ---------------------------------------------------------------- disk


def disk_usage(root: Path) -> tuple[int, dict[str, int]]:
    """Bytes the run directory takes on disk as `du` counts them (the allocated blocks of its files and
    folders, a hard-linked file once), and the same per top-level entry."""
    seen: set[tuple[int, int]] = set()
    parts: dict[str, int] = {}

    def size(path: str | Path) -> int:
        try:
            st = os.lstat(path)
        except OSError:
            return 0  # removed while we walk
        if (st.st_dev, st.st_ino) in seen:
            return 0
        seen.add((st.st_dev, st.st_ino))
        return st.st_blocks * 512 if hasattr(st, "st_blocks") else st.st_size

    total = size(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            n = size(path)
            top = path.relative_to(root).parts[0]
            parts[top] = parts.get(top, 0) + n
            total += n
    return total, parts


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError
