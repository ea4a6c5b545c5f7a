"""The run report: `report.md` and a self-contained `report.html` (PNG plots embedded) in a run directory.

It reads only what the stages wrote, so it can be rebuilt at any time (`medo1 report RUN_DIR`):
the funnel from questions to RL problems, the synthesis consistency rate (rewrites that state the
verified answer), calls / tokens / cost per stage, the verifier, the SFT loss curve, the RL reward /
KL / correct-rate curves, the eval table before vs after with 95% intervals, the format rate and
thinking length of each model, and three example outputs.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import yaml

from medo1.thinking import parse_output

MODELS = (("base", "base (before)"), ("sft", "after SFT"), ("rl", "after RL"))
USAGE_FILES = (("curate", "problems.usage.json"), ("search", "traces.usage.json"), ("synthesize", "sft.usage.json"))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a half-written last line of a killed stage
    return rows


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- gathering


def funnel(root: Path) -> list[tuple[str, int]]:
    traces = _jsonl(root / "traces.jsonl")
    return [
        ("MCQs", len(_jsonl(root / "mcq.jsonl"))),
        ("verifiable problems", len(_jsonl(root / "problems.jsonl"))),
        ("search problems (after decontamination)", len(_jsonl(root / "clean/search.jsonl"))),
        ("traces found", sum(1 for t in traces if t.get("found"))),
        ("  of which with the label hint", sum(1 for t in traces if t.get("found") and t.get("label_hint"))),
        ("SFT examples", len(_jsonl(root / "sft.jsonl"))),
        ("RL problems (after decontamination)", len(_jsonl(root / "clean/rl.jsonl"))),
    ]


def consistency_row(root: Path) -> list[Any] | None:
    """The synthesis answer check over everything in sft.jsonl and sft.failed.jsonl (None: nothing checked)."""
    from medo1.synthesize import answer_checks

    s = answer_checks(root / "sft.jsonl")
    if not (s.checked or s.verify_errors):
        return None
    return [s.checked, s.agreed_first, s.reasked, s.drifted, s.verify_errors, _pct(s.consistency_rate)]


def usage_rows(root: Path, recipe: dict[str, Any]) -> list[list[Any]]:
    """Calls, tokens and cost per stage (cost where the recipe gives the model's prices)."""
    models = recipe.get("models", {})
    prices = recipe.get("report", {}).get("prices", {})
    rows = []
    for stage, name in USAGE_FILES:
        usage = _json(root / name)
        for tag, t in sorted(usage.get("by_tag", {}).items()):
            if tag.startswith("curate.difficulty"):
                specs = models.get("difficulty", [])
            elif tag == "verify":
                specs = [models.get("verifier", "").removeprefix("judge:")]
            else:
                specs = [models.get("teacher", "")]
            price = next((prices[s] for s in specs if s in prices), None)
            cost = (t.get("prompt_tokens", 0) * price[0] + t.get("completion_tokens", 0) * price[1]) / 1e6 if price else None
            rows.append([stage, tag, int(t.get("calls", 0)), int(t.get("cache_hits", 0)), int(t.get("errors", 0)),
                         int(t.get("prompt_tokens", 0)), int(t.get("completion_tokens", 0)),
                         "-" if cost is None else f"${cost:.2f}"])
    for key, label in MODELS:
        usage = _json(root / "eval" / key / "results.json").get("usage", {})
        if usage:
            rows.append(["eval", f"eval ({label})", int(usage.get("calls", 0)), int(usage.get("cache_hits", 0)),
                         int(usage.get("errors", 0)), int(usage.get("prompt_tokens", 0)),
                         int(usage.get("completion_tokens", 0)), "-"])
    return rows


def eval_outputs(root: Path, key: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "eval" / key).glob("*.items.jsonl")):
        rows += _jsonl(path)
    return rows


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


def eval_table(root: Path) -> tuple[list[str], list[list[Any]]]:
    results = {key: _json(root / "eval" / key / "results.json") for key, _ in MODELS}
    benches = sorted({b for r in results.values() for b in r.get("benches", {})})
    header = ["Benchmark"] + [label for _, label in MODELS]
    rows = []
    for bench in benches:
        row: list[Any] = [bench]
        for key, _ in MODELS:
            s = results[key].get("benches", {}).get(bench)
            row.append("-" if not s else f"{_pct(s['accuracy'])} [{_pct(s['ci_low'])}, {_pct(s['ci_high'])}] "
                                         f"(n={s['n']}, unparsed {_pct(s['unparsed_rate'])})")
        rows.append(row)
    return header, rows


def examples(root: Path, k: int = 3) -> list[dict[str, Any]]:
    """Up to k outputs of the last trained model, well-formed ones first."""
    for key in ("rl", "sft", "base"):
        rows = eval_outputs(root, key)
        if rows:
            rows = sorted(rows, key=lambda r: (not parse_output(r.get("output", "")).well_formed, not r.get("correct")))
            return [{**r, "model": key} for r in rows[:k]]
    return []


# ---------------------------------------------------------------- plots


def _metric_series(path: Path, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in _jsonl(path):
        if isinstance(row.get(key), (int, float)):
            xs.append(row.get("step", len(xs)))
            ys.append(row[key])
    return xs, ys


def plots(root: Path) -> dict[str, Path]:
    """PNG plots of the training curves that exist; returns {title: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = root / "plots"
    out_dir.mkdir(exist_ok=True)
    wanted = [
        ("SFT loss", root / "ckpt/sft/metrics.jsonl", ["loss"]),
        ("RL reward and correct rate", root / "ckpt/rl/metrics.jsonl", ["reward", "correct_rate", "format_rate"]),
        ("RL KL to the SFT model", root / "ckpt/rl/metrics.jsonl", ["kl"]),
    ]
    made = {}
    for title, path, keys in wanted:
        series = [(key, *_metric_series(path, key)) for key in keys]
        series = [s for s in series if s[1]]
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        for key, xs, ys in series:
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
        ax.set_title(title)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
        fig.tight_layout()
        png = out_dir / (title.lower().replace(" ", "_") + ".png")
        fig.savefig(png)
        plt.close(fig)
        made[title] = png
    return made


# ---------------------------------------------------------------- writing


def build_markdown(root: Path, made: dict[str, Path]) -> str:
    recipe = yaml.safe_load((root / "recipe.yaml").read_text(encoding="utf-8")) if (root / "recipe.yaml").exists() else {}
    state = _json(root / "run.json").get("stages", {})
    models = recipe.get("models", {})
    parts = [f"# medo1 run report: {recipe.get('name', root.name)}", ""]
    parts.append(
        f"Run directory `{root}`. Teacher `{models.get('teacher')}`, policy `{models.get('policy')}`, "
        f"difficulty models `{', '.join(models.get('difficulty', []))}`, verifier `{models.get('verifier')}`"
        f"{', RL algorithm `' + recipe.get('rl', {}).get('algo', '') + '`' if recipe.get('rl') else ''}."
    )
    parts += ["", "## Stages", ""]
    total = sum(s.get("seconds", 0) for s in state.values())
    parts.append(_table(["Stage", "Seconds", "Finished"],
                        [[name, f"{s.get('seconds', 0):.1f}", s.get("finished", "")] for name, s in state.items()]
                        + [["total", f"{total:.1f}", ""]]))
    parts += ["", "## Funnel", "", _table(["Step", "Count"], [[a, b] for a, b in funnel(root)])]
    row = consistency_row(root)
    if row:
        parts += ["", "## Synthesis: agreement with the verified answer", "",
                  "Each rewrite (response; for complex and direct also the reasoning's final thought) is checked "
                  "against the verified answer; a drifting one is re-asked, then dropped. The consistency rate is the "
                  "share of checked examples whose first replies already stated the answer.", "",
                  _table(["Checked", "Agreed at the first ask", "Kept after a re-ask", "Dropped for drift",
                          "No verdict (verifier error)", "Consistency rate %"], [row])]
    rows = usage_rows(root, recipe)
    if rows:
        parts += ["", "## Calls, tokens and cost", "",
                  _table(["Stage", "Call kind", "Calls", "Cache hits", "Errors", "Prompt tokens", "Completion tokens",
                          "Cost"], rows)]
    header, rows = eval_table(root)
    if rows:
        parts += ["", "## Evaluation: accuracy % [95% Wilson interval]", "", _table(header, rows)]
    stats = {key: output_stats(eval_outputs(root, key)) for key, _ in MODELS}
    if any(s["n"] for s in stats.values()):
        parts += ["", "## Output format", "", _table(
            ["Model", "Outputs", "Format rate % (thinking + final response)", "Mean thinking length (words)"],
            [[label, stats[key]["n"], _pct(stats[key]["format_rate"]),
              "-" if stats[key]["thinking_words"] is None else f"{stats[key]['thinking_words']:.0f}"]
             for key, label in MODELS if stats[key]["n"]])]
    for title, png in made.items():
        parts += ["", f"## {title}", "", f"![{title}]({png.relative_to(root)})"]
    shown = examples(root)
    if shown:
        parts += ["", "## Example outputs", ""]
        for i, ex in enumerate(shown, start=1):
            verdict = "correct" if ex.get("correct") else "wrong"
            parts += [f"### Example {i} ({ex['model']} model, {ex.get('bench', '')}, answer read: "
                      f"{ex.get('extracted') or 'none'} by {ex.get('method')}, {verdict})", "",
                      "**Prompt**", "", "```text", str(ex.get("prompt", "")).strip()[:1500], "```", "",
                      "**Output**", "", "```text", str(ex.get("output", "")).strip()[:3000], "```", ""]
    return "\n".join(parts).rstrip() + "\n"


def markdown_to_html(text: str, root: Path) -> str:
    """The report as one self-contained HTML page: plots are embedded as data URIs."""
    import re

    import markdown

    body = markdown.markdown(text, extensions=["tables", "fenced_code"])

    def embed(match: re.Match) -> str:
        data = base64.b64encode((root / html.unescape(match.group(1))).read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="(plots/[^"]+\.png)"', embed, body)
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             "th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;white-space:pre-wrap}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>medo1 report</title><style>{style}</style>"
            f"</head><body>\n{body}\n</body></html>\n")


def write_report(root: str | Path) -> tuple[Path, Path]:
    """Write `report.md` and `report.html` into the run directory `root`."""
    root = Path(root)
    made = plots(root)
    markdown = build_markdown(root, made)
    md_path, html_path = root / "report.md", root / "report.html"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(markdown_to_html(markdown, root), encoding="utf-8")
    return md_path, html_path
