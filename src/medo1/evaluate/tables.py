"""Markdown tables from saved results: the paper's Table 1 (models side by side) and details.

    print(compare(["runs/base", "runs/sft", "runs/rl"]))   # medo1 eval --compare DIR...

| Model | MedQA | MedMCQA | PubMedQA | MMLU-Pro Health | MMLU-Pro Biology | GPQA Genetics | GPQA Molecular Biology | Avg. |

Benchmarks with subsets (MMLU-Pro, GPQA) get one column per subset, as in the paper;
Avg. is the mean of a row's columns (marked * when the row lacks some of the table's).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error


def load_results(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The results.json of an eval output directory (or the file itself)."""
    path = Path(run_dir)
    path = path / "results.json" if path.is_dir() else path
    if not path.is_file():
        raise Medo1Error(f"{path}: no such file; run `medo1 eval --out {path.parent}` first")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise Medo1Error(f"{path}:{err.lineno}: (json): {err.msg}") from None
    if not isinstance(results, dict) or not isinstance(results.get("benches"), dict):
        raise Medo1Error(f"{path}: benches: missing; not an eval results file")
    results.setdefault("model", path.parent.name)
    return results


def columns(results: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(key, title, accuracy) for each Table 1 column of one results file."""
    out = []
    for name, bench in results["benches"].items():
        title = bench.get("title", name)
        if bench.get("subsets"):
            for subset, s in bench["subsets"].items():
                out.append((f"{name}/{subset}", f"{title} {subset.title()}", s["accuracy"]))
        else:
            out.append((name, title, bench["accuracy"]))
    return out


def _label(results: dict[str, Any]) -> str:
    style = results.get("setup", {}).get("style")
    return f"{results['model']}" + (f" ({style})" if style and style != "free" else "")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def paper_table(all_results: list[dict[str, Any]]) -> str:
    """One row per model, one column per benchmark (or subset), then the average, in percent."""
    titles: dict[str, str] = {}
    rows = []
    for results in all_results:
        cols = columns(results)
        for key, title, _ in cols:
            titles.setdefault(key, title)
        rows.append((_label(results), {key: acc for key, _, acc in cols}))
    header = ["Model", *titles.values(), "Avg."]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" + "---:|" * (len(header) - 1)]
    for label, accs in rows:
        cells = [_pct(accs[k]) if k in accs else "-" for k in titles]
        avg = _pct(sum(accs.values()) / len(accs)) if accs else "-"
        if accs and len(accs) < len(titles):
            avg += "*"
        lines.append("| " + " | ".join([label.replace("|", "\\|"), *cells, avg]) + " |")
    return "\n".join(lines)


def details_table(results: dict[str, Any]) -> str:
    """Per benchmark (and subset): n, accuracy with its 95% Wilson interval, and how answers were read."""
    header = ["Benchmark", "n", "Runs", "Accuracy %", "95% CI", "Unparsed %", "Truncated %", "Mean tokens", "Failed"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]

    def row(name: str, s: dict[str, Any]) -> str:
        n = s["n"] if isinstance(s["n"], int) else f"{s['n']:g}"
        return "| " + " | ".join([
            name, str(n), str(s.get("runs", 1)), _pct(s["accuracy"]),
            f"{_pct(s['ci_low'])}-{_pct(s['ci_high'])}", _pct(s["unparsed_rate"]),
            _pct(s.get("truncated_rate", 0.0)), f"{s['mean_tokens']:.0f}", str(s.get("failed", 0)),
        ]) + " |"

    for name, bench in results["benches"].items():
        lines.append(row(bench.get("title", name), bench))
        for subset, s in bench.get("subsets", {}).items():
            lines.append(row(f"  {bench.get('title', name)} {subset.title()}", s))
    return "\n".join(lines)


def compare(run_dirs: list[str | os.PathLike]) -> str:
    """Table 1 for several saved evals side by side."""
    if not run_dirs:
        raise Medo1Error("--compare needs at least one eval output directory")
    return paper_table([load_results(d) for d in run_dirs])
