"""Did the second model really beat the first? Paired tests between two evaluations of the same items.

    paired_lines(["runs/eval-sft", "runs/eval-rl"])
    -> ["MedQA, sft → rl: +2.1 points, p = 0.030 (McNemar exact, 31 vs 52 discordant of 1273)", ...]

Questions are matched by item id (the same question, options and answer), so only the questions both
directories answered count. One greedy answer per question on both sides: the exact McNemar test;
several answers (samples, GPQA's runs): a paired bootstrap of Avg@K (`medo1.evaluate.stats`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from medo1.evaluate.stats import PairedTest, paired_test
from medo1.evaluate.tables import load_results
from medo1.jsonl import iter_json_values


def correctness(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, list[bool]]]:
    """{bench: {item id: [correct, ...] in run order}} from item rows (the latest row of each id counts)."""
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if isinstance(r, dict) and "id" in r and "correct" in r:
            latest[r["id"]] = r
    out: dict[str, dict[str, list[tuple[int, bool]]]] = {}
    for r in latest.values():
        out.setdefault(r.get("bench", ""), {}).setdefault(r.get("item_id", r["id"]), []).append(
            (int(r.get("run", 0)), bool(r["correct"])))
    return {b: {q: [ok for _, ok in sorted(v)] for q, v in qs.items()} for b, qs in out.items()}


def dir_rows(eval_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every answer row of an eval output directory."""
    rows: list[dict[str, Any]] = []
    for path in sorted(Path(eval_dir).glob("*.items.jsonl")):
        if path.stat().st_size:
            rows += [row for _, row in iter_json_values(path)]
    return rows


def paired_tests(rows_before: Iterable[dict], rows_after: Iterable[dict]) -> dict[str, PairedTest]:
    """{bench: the paired test} for each benchmark with questions answered on both sides."""
    before, after = correctness(rows_before), correctness(rows_after)
    tests = {bench: paired_test(before[bench], after[bench]) for bench in before if bench in after}
    return {bench: t for bench, t in tests.items() if t is not None}


def paired_lines(eval_dirs: list[str | os.PathLike]) -> list[str]:
    """One line per benchmark for each consecutive pair of eval directories (A → B, B → C, ...)."""
    lines = []
    results = [load_results(d) for d in eval_dirs]
    rows = [dir_rows(d) for d in eval_dirs]
    for i in range(len(eval_dirs) - 1):
        label = f"{results[i]['model']} → {results[i + 1]['model']}"
        titles = {**{b: s.get("title", b) for b, s in results[i]["benches"].items()},
                  **{b: s.get("title", b) for b, s in results[i + 1]["benches"].items()}}
        tests = paired_tests(rows[i], rows[i + 1])
        if not tests:
            lines.append(f"{label}: no question answered by both")
        lines += [t.line(f"{titles.get(bench, bench)}, {label}") for bench, t in tests.items()]
    return lines


def compare_report(eval_dirs: list[str | os.PathLike]) -> str:
    """`medo1 eval --compare DIR...`: Table 1 of the directories side by side, then the paired tests."""
    from medo1.evaluate.tables import compare

    table = compare(eval_dirs)
    lines = paired_lines(eval_dirs) if len(eval_dirs) > 1 else []
    return table + ("\n\nPaired tests (same questions):\n" + "\n".join(f"- {line}" for line in lines) if lines else "")
