"""Figures over the item rows of one benchmark: accuracy and its interval, how answers were read,
Avg@K / maj@K when a question was asked several times, and the official scorer's figure.

    score(rows, runs=4)  -> {"accuracy": ..., "ci_low": ..., "maj_accuracy": ..., "official_accuracy": ...}

A row is one answer (`medo1.evaluate.runner` writes them): `item_id`, `run`, `correct`, `method`,
`extracted` and `extracted_text` (the chosen option's text, the same across shuffled option orders),
`official_first` / `official_last`, `finish_reason`, `completion_tokens`.
"""

from __future__ import annotations

from typing import Any

from medo1.evaluate.benchmarks import Benchmark
from medo1.verify.extract import UNPARSED
from medo1.evaluate.official import official_score
from medo1.evaluate.stats import sampled_figures, wilson_interval


def answers_by_question(rows: list[dict]) -> dict[str, list[tuple[Any, bool]]]:
    """{question id: [(the answer chosen or None, correct), ...] in run order}, for voting and paired tests."""
    out: dict[str, list[tuple[int, Any, bool]]] = {}
    for r in rows:
        chosen = r.get("extracted_text", r.get("extracted")) if r.get("method") not in UNPARSED else None
        out.setdefault(str(r.get("item_id", r.get("id"))), []).append((r.get("run", 0), chosen, bool(r["correct"])))
    return {q: [(c, ok) for _, c, ok in sorted(v, key=lambda x: x[0])] for q, v in out.items()}


def score(rows: list[dict], runs: int = 1, failed: int = 0) -> dict[str, Any]:
    """Accuracy and friends over item rows (`correct`, `method`, `run`, `completion_tokens`, ...).

    With several runs (samples, or GPQA's shuffled option orders), accuracy is Avg@K, the mean over
    all answers, and its interval treats that mean as one proportion over the questions (not over
    questions x runs, which would overstate the evidence; `medo1.evaluate.stats`); maj@K, the share
    of questions whose majority answer is right, comes with its own Wilson interval.
    """
    answered = len(rows)
    correct = sum(1 for r in rows if r["correct"])
    accuracy = correct / answered if answered else 0.0
    questions = answered / max(runs, 1)
    low, high = wilson_interval(accuracy * questions, questions)
    per_run: dict[int, list[bool]] = {}
    for r in rows:
        per_run.setdefault(r.get("run", 0), []).append(bool(r["correct"]))
    result = {
        "n": round(questions, 3) if runs > 1 else answered,
        "answered": answered,
        "correct": correct,
        "accuracy": accuracy,
        "ci_low": low,
        "ci_high": high,
        # unparsed: no answer found, or several different ones stated (ambiguous_rate: the latter alone)
        "unparsed_rate": sum(1 for r in rows if r["method"] in UNPARSED) / answered if answered else 0.0,
        "ambiguous_rate": sum(1 for r in rows if r["method"] == "ambiguous") / answered if answered else 0.0,
        "truncated_rate": sum(1 for r in rows if r.get("finish_reason") == "length") / answered if answered else 0.0,
        "mean_tokens": sum(r.get("completion_tokens", 0) for r in rows) / answered if answered else 0.0,
        "runs": runs,
        "run_accuracy": [sum(v) / len(v) for _, v in sorted(per_run.items())],
        "failed": failed,
    }
    if runs > 1 and rows and all("item_id" in r for r in rows):
        figures = sampled_figures(answers_by_question(rows))
        result.update(maj_accuracy=figures["maj_at_k"], maj_ci_low=figures["maj_ci_low"],
                      maj_ci_high=figures["maj_ci_high"])
    official = official_score(rows)
    if official is not None:
        result.update(official_accuracy=official["accuracy"], official_first=official["first"],
                      official_last=official["last"])
    return result


def score_bench(bench: Benchmark, rows: list[dict], runs: int, failed: int = 0) -> dict[str, Any]:
    """`score` of a whole benchmark, and of each of its subsets (MMLU-Pro's categories, the official file's sources)."""
    result = {"title": bench.title, **score(rows, runs, failed)}
    order = lambda s: (bench.subsets.index(s) if s in bench.subsets else len(bench.subsets), s)  # noqa: E731
    subsets = sorted({r["subset"] for r in rows if r.get("subset")}, key=order)
    if bench.subsets and subsets:
        result["subsets"] = {s: score([r for r in rows if r.get("subset") == s], runs) for s in subsets}
    return result
