"""The report's detail sections, below the story: evaluation, output format, funnel, RL problems by pass rate,
synthesis check, training curves, example outputs, stage times, calls / tokens / cost, and the run's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medo1.report.facts import (MODELS, consistency_row, eval_outputs, eval_results, funnel, output_stats,
                                paired_steps, pct, recipe_of, stages_of, usage_rows)
from medo1.report.page import Section
from medo1.report.passrate import passrate_section
from medo1.report.plots import CAPTIONS
from medo1.report.story import mark
from medo1.thinking import parse_output

FILES = (("recipe.yaml", "the recipe, every default filled in"), ("run.json", "stage times and summaries"),
         ("logs/run.log", "what happened, with times"), ("problems.jsonl", "verifiable problems"),
         ("problems.rejected.jsonl", "questions curation dropped, with the reason"),
         ("traces.jsonl", "every search, call by call"), ("traces.failed.jsonl", "searches that failed"),
         ("sft.jsonl", "the SFT examples"), ("sft.failed.jsonl", "rewrites synthesis dropped, with the reason"),
         ("eval/base/results.md", "evaluation of the base model"), ("eval/sft/results.md", "... after SFT"),
         ("eval/rl/results.md", "... after RL"))


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def eval_table(root: Path) -> tuple[list[str], list[list[Any]]]:
    results = eval_results(root)
    benches = sorted({b for r in results.values() for b in r.get("benches", {})})
    header = ["Benchmark"] + [label for _, label in MODELS]
    rows = []
    for bench in benches:
        row: list[Any] = [bench]
        for key, _ in MODELS:
            s = results.get(key, {}).get("benches", {}).get(bench)
            if not s:
                row.append("-")
                continue
            ambiguous = f" of which {pct(s['ambiguous_rate'])} ambiguous" if s.get("ambiguous_rate") else ""
            row.append(f"{pct(s['accuracy'])} [{pct(s['ci_low'])}, {pct(s['ci_high'])}] "
                       f"(n={s['n']}, unparsed {pct(s['unparsed_rate'])}{ambiguous}){mark(s)}")
        rows.append(row)
    return header, rows


def examples(root: Path, k: int = 3) -> list[dict[str, Any]]:
    """Up to k outputs of the last model evaluated, not only its best: a correct one, a wrong one and an
    unparsed one where there are such (well-formed ones first within each), then more of the same."""
    for key in ("rl", "sft", "base"):
        rows = sorted(eval_outputs(root, key), key=lambda r: not parse_output(r.get("output", "")).well_formed)
        if not rows:
            continue
        groups = [[r for r in rows if r.get("correct")],
                  [r for r in rows if not r.get("correct") and r.get("extracted")],
                  [r for r in rows if not r.get("correct") and not r.get("extracted")]]
        picked = [g[0] for g in groups if g][:k]
        picked += [r for r in rows if r not in picked][: k - len(picked)]
        return [{**r, "model": key} for r in picked]
    return []


def detail_sections(root: Path, made: dict[str, Path]) -> list[Section]:
    out = []
    header, rows = eval_table(root)
    if rows:
        body = ("Accuracy % [95% Wilson interval] of each model on the same questions; "
                "unparsed: no answer found, or several different answers stated.\n\n" + table(header, rows))
        steps = paired_steps(root)
        if steps:
            body += ("\n\nEach step, paired on the questions both models answered (exact McNemar test on one greedy "
                     "answer each; a paired bootstrap with several):\n\n" + table(
                         ["Step", "Benchmark", "Change (points)", "p", "Verdict", "Test"],
                         [[step, bench, f"{100 * t.difference:+.1f}", f"{t.p:.3f}",
                           "significant" if t.significant else "not significant", t.detail]
                          for bench, step, t in steps]))
        out.append(Section("Evaluation", body))
    stats = {key: output_stats(eval_outputs(root, key)) for key, _ in MODELS}
    if any(s["n"] for s in stats.values()):
        out.append(Section("Output format", table(
            ["Model", "Outputs", "Format rate % (thinking + final response)", "Mean thinking length (words)"],
            [[label, stats[key]["n"], pct(stats[key]["format_rate"]),
              "-" if stats[key]["thinking_words"] is None else f"{stats[key]['thinking_words']:.0f}"]
             for key, label in MODELS if stats[key]["n"]])))
    out.append(Section("Funnel", table(["Step", "Count"], [[a, b] for a, b in funnel(root)])))
    if (chosen := passrate_section(root)) is not None:
        out.append(chosen)
    row = consistency_row(root)
    if row:
        out.append(Section(
            "Synthesis: agreement with the verified answer",
            "Each rewrite (response; for complex and direct also the reasoning's final thought) is checked against "
            "the verified answer; a drifting one is re-asked, then dropped. The consistency rate is the share of "
            "checked examples whose first replies already stated the answer.\n\n"
            + table(["Checked", "Agreed at the first ask", "Kept after a re-ask", "Dropped for drift",
                     "No verdict (verifier error)", "Consistency rate %"], [row])))
    return out


def later_sections(root: Path, made: dict[str, Path]) -> list[Section]:
    """What follows the trace viewer: curves, example outputs, stage times, calls and cost, files."""
    recipe, state = recipe_of(root), stages_of(root)
    out = [Section(title, (CAPTIONS[title] + "\n\n" if title in CAPTIONS else "")
                   + f"![{title}]({png.relative_to(root).as_posix()})") for title, png in made.items()]
    shown = examples(root)
    if shown:
        body = []
        for i, ex in enumerate(shown, start=1):
            verdict = "correct" if ex.get("correct") else "wrong"
            body += [f"### Example {i} ({ex['model']} model, {ex.get('bench', '')}, answer read: "
                     f"{ex.get('extracted') or 'none'} by {ex.get('method')}, {verdict})", "",
                     "**Prompt**", "", "```text", str(ex.get("prompt", "")).strip()[:1500].replace("```", "'''"),
                     "```", "", "**Output**", "", "```text",
                     str(ex.get("output", "")).strip()[:3000].replace("```", "'''"), "```", ""]
        out.append(Section("Example outputs", "\n".join(body).rstrip()))
    if state:
        total = sum(s.get("seconds", 0) for s in state.values())
        out.append(Section("Stages", table(
            ["Stage", "Seconds", "Finished"],
            [[name, f"{s.get('seconds', 0):.1f}", s.get("finished", "")] for name, s in state.items()]
            + [["total", f"{total:.1f}", ""]])))
    rows = usage_rows(root, recipe)
    if rows:
        out.append(Section("Calls, tokens and cost", table(
            ["Stage", "Call kind", "Calls", "Cache hits", "Errors", "Prompt tokens", "Completion tokens", "Cost"],
            [r.cells() for r in rows])))
    files = [(name, what) for name, what in FILES if (root / name).exists()]
    if files:
        out.append(Section("Files of this run", "\n".join(f"- [{name}]({name}): {what}" for name, what in files)))
    return out
