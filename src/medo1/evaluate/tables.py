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


def columns(results: dict[str, Any], key: str = "accuracy") -> list[tuple[str, str, float | None]]:
    """(key, title, figure) for each Table 1 column of one results file; `key` picks the figure
    ("accuracy", or "official_accuracy": the official scorer's, None where it was not computed)."""
    out = []
    for name, bench in results["benches"].items():
        title = bench.get("title", name)
        if bench.get("subsets"):
            for subset, s in bench["subsets"].items():
                out.append((f"{name}/{subset}", f"{title} {_subset_title(subset)}", s.get(key)))
        else:
            out.append((name, title, bench.get(key)))
    return out


def _subset_title(subset: str) -> str:
    return subset.title() if subset.islower() else subset  # "health" -> "Health"; "MedQA_USLME_test" as it is


def _label(results: dict[str, Any]) -> str:
    style = results.get("setup", {}).get("style")
    return f"{results['model']}" + (f" ({style})" if style and style != "free" else "")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def has_official(all_results: list[dict[str, Any]]) -> bool:
    return any(v is not None for r in all_results for _, _, v in columns(r, "official_accuracy"))


def paper_table(all_results: list[dict[str, Any]]) -> str:
    """One row per model, one column per benchmark (or subset), then the average, in percent.

    Where the official scorer ran (`--scorer official`), each column has its official twin beside it
    ("MedQA (official)") and the row ends with both averages."""
    official = has_official(all_results)
    titles: dict[str, str] = {}
    rows = []
    for results in all_results:
        cols = columns(results)
        for key, title, _ in cols:
            titles.setdefault(key, title)
        off = {key: v for key, _, v in columns(results, "official_accuracy") if v is not None}
        rows.append((_label(results), {key: acc for key, _, acc in cols}, off))
    header = ["Model"]
    for title in titles.values():
        header += [title, f"{title} (official)"] if official else [title]
    header += ["Avg.", "Avg. (official)"] if official else ["Avg."]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" + "---:|" * (len(header) - 1)]
    for label, accs, off in rows:
        cells = []
        for k in titles:
            cells.append(_pct(accs[k]) if k in accs else "-")
            if official:
                cells.append(_pct(off[k]) if k in off else "-")
        cells.append(_average(accs, len(titles)))
        if official:
            cells.append(_average(off, len(titles)))
        lines.append("| " + " | ".join([label.replace("|", "\\|"), *cells]) + " |")
    return "\n".join(lines)


def _average(figures: dict[str, float], columns_in_table: int) -> str:
    """The mean of a row's figures, marked * when the row lacks some of the table's columns."""
    if not figures:
        return "-"
    return _pct(sum(figures.values()) / len(figures)) + ("*" if len(figures) < columns_in_table else "")


def details_table(results: dict[str, Any]) -> str:
    """Per benchmark (and subset): n, accuracy with its 95% interval, maj@K where a question was asked
    several times, the official scorer's figure where it ran, and how answers were read."""
    rows_of = []  # each benchmark, then its subsets
    for name, bench in results["benches"].items():
        rows_of.append((bench.get("title", name), bench))
        rows_of += [(f"  {bench.get('title', name)} {_subset_title(subset)}", s)
                    for subset, s in bench.get("subsets", {}).items()]
    sampled = any("maj_accuracy" in s for _, s in rows_of)
    official = any("official_accuracy" in s for _, s in rows_of)
    header = ["Benchmark", "n", "Runs", "Accuracy %" + (" (Avg@K)" if sampled else ""), "95% CI"]
    header += ["maj@K %", "maj 95% CI"] if sampled else []
    header += ["Official %"] if official else []
    header += ["Unparsed %", "Truncated %", "Mean tokens", "Failed"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]

    def row(name: str, s: dict[str, Any]) -> str:
        n = s["n"] if isinstance(s["n"], int) else f"{s['n']:g}"
        cells = [name, str(n), str(s.get("runs", 1)), _pct(s["accuracy"]), f"{_pct(s['ci_low'])}-{_pct(s['ci_high'])}"]
        if sampled:
            cells += ([_pct(s["maj_accuracy"]), f"{_pct(s['maj_ci_low'])}-{_pct(s['maj_ci_high'])}"]
                      if "maj_accuracy" in s else ["-", "-"])
        if official:
            cells.append(_pct(s["official_accuracy"]) if "official_accuracy" in s else "-")
        cells += [_pct(s["unparsed_rate"]), _pct(s.get("truncated_rate", 0.0)), f"{s['mean_tokens']:.0f}",
                  str(s.get("failed", 0))]
        return "| " + " | ".join(cells) + " |"

    lines += [row(name, s) for name, s in rows_of]
    return "\n".join(lines)


def compare(run_dirs: list[str | os.PathLike]) -> str:
    """Table 1 for several saved evals side by side."""
    if not run_dirs:
        raise Medo1Error("--compare needs at least one eval output directory")
    return paper_table([load_results(d) for d in run_dirs])
