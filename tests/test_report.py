"""The run report of a real run: the story first (summary box, what the run can and cannot show), the
trace viewer, and the HTML checked in a real headless Chromium (renders, images load, no broken links).

The run is the scripted one of tests/test_pipeline.py (a real OpenAI-compatible server plays the teacher,
a tiny random Llama is the policy), built once for this module; its teacher errs at the start of some
searches and corrects itself in a refinement, and never finds the answer of one problem.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from medo1.pipeline import run_recipe
from medo1.report import write_report
from medo1.report.facts import disk_usage, too_wide
from tests.browser import find_chromium, load_page
from tests.openai_server import OpenAIServer
from tests.test_pipeline import SAMPLE, Teacher, answer_in, cot, recipe_text

PRICE = (1.0, 2.0)  # USD per 1M prompt / completion tokens of the teacher
HOPELESS = SAMPLE[1].question[:80]  # the teacher never finds this one's answer


def refinement(conclusion: str) -> str:
    return json.dumps({"CoT": [
        {"action": "Verification", "title": "Check", "content": "That conclusion misses the key finding."},
        {"action": "Inner Thinking", "title": "Again", "content": "The key finding points elsewhere."},
        {"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
        {"action": "Verification", "title": "Check", "content": "Now every finding fits."},
    ]})


class Searching(Teacher):
    """Errs at the start of every other search and corrects itself in the refinement."""

    def __call__(self, body: dict, headers: dict):
        tag = headers.get("x-medo1-tag", "")
        prompt = "\n".join(m["content"] for m in body["messages"])
        if tag.startswith("search.") and HOPELESS in prompt:
            return cot("Sarcoidosis") if tag == "search.init" else refinement("Sarcoidosis")
        if tag == "search.init" and len(answer_in(prompt)) % 2:
            return cot("Sarcoidosis")
        if tag.startswith("search.") and tag != "search.init":
            return refinement(answer_in(prompt))
        return super().__call__(body, headers)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("report")
    with OpenAIServer(Searching()) as server:
        recipe = root / "recipe.yaml"
        spec = f"openai:teacher@{server.url}"
        recipe.write_text(recipe_text(server.url, tiny_model_dir,
                                      data="  mcq: [sample]\n  limit: 7\n", split="  rl_fraction: 0.3\n",
                                      report=f"  prices:\n    '{spec}': [{PRICE[0]}, {PRICE[1]}]\n"))
        return run_recipe(recipe, root / "run")


def section(md: str, title: str) -> str:
    """The body of one `## title` section of report.md (its code blocks may hold `## Thinking` lines)."""
    contents = next(line for line in md.splitlines() if line.startswith("Contents: "))
    titles = re.findall(r"\[(.+?)\]\(#[\w-]+\)", contents)
    start = md.index(f"\n## {title}\n")
    following = titles[titles.index(title) + 1:]
    return md[start: md.index(f"\n## {following[0]}\n") if following else None]


# ---------------------------------------------------------------- the story


def test_summary_box_tells_the_run_first(run_dir):
    md = (run_dir / "report.md").read_text()
    assert md.index("## Summary") < md.index("## What this run can and cannot show") < md.index("## Evaluation")
    box = section(md, "Summary")
    traces = [json.loads(line) for line in (run_dir / "traces.jsonl").read_text().splitlines()]
    assert sum(t["found"] for t in traces) == 4 and sum(not t["found"] for t in traces) == 1
    assert "7 MCQs → 7 problems → 4 traces → 4 SFT examples → 2 RL problems" in box
    assert "policy hf:" in box and "SFT model ckpt/sft (" in box and "RL model ckpt/rl (PPO, 1 step)" in box
    assert "| **Format rate** | base (before) " in box and " → after SFT " in box and " → after RL " in box
    # three questions: every interval spans more than 40 points
    assert "| **Accuracy, Sample (n=3)** |" in box and "— **too few items to compare** |" in box
    # the cost from the recipe's prices, over every teacher call of every stage
    usage = [json.loads((run_dir / f).read_text())["by_tag"] for f in
             ("problems.usage.json", "traces.usage.json", "sft.usage.json")]
    cost = sum(t["prompt_tokens"] * PRICE[0] + t["completion_tokens"] * PRICE[1]
               for u in usage for tag, t in u.items() if not tag.startswith("curate.difficulty")) / 1e6
    assert f"| **Cost** | ${cost:.2f} (" in box and "calls have no price" in box  # the difficulty model has none
    stages = json.loads((run_dir / "run.json").read_text())["stages"]
    assert f"| **Wall time** | {round(sum(s['seconds'] for s in stages.values()))} s over the stages" in box
    assert "| **Run directory** |" in box and "on disk" in box


def test_the_size_on_disk_is_what_du_says(run_dir):
    du = subprocess.run(["du", "-s", "-B1", str(run_dir)], capture_output=True, text=True, check=True)
    total, parts = disk_usage(run_dir)
    assert total == int(du.stdout.split()[0])
    assert parts["ckpt"] == max(parts.values())  # the trained weights are the largest part of a run


def test_what_the_run_can_and_cannot_show(run_dir, tmp_path):
    md = (run_dir / "report.md").read_text()
    said = section(md, "What this run can and cannot show")
    assert "Each model answered 3 questions per benchmark" in said and "more than 40 points" in said
    assert "several different answers" in said
    assert "embedded" not in said and "label-hint" not in said  # neither is true of this run
    # the same run, as if its policy were the embedded 135M model
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("ckpt"))
    recipe = yaml.safe_load((copy / "recipe.yaml").read_text())
    recipe["models"]["policy"] = "embedded"
    (copy / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    write_report(copy)
    said = section((copy / "report.md").read_text(), "What this run can and cannot show")
    assert "The policy is the embedded SmolLM2-135M-Instruct" in said and "teaches the format, not medicine" in said


def test_a_run_stopped_half_way_has_a_report_of_what_it_did(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("ckpt", "eval", "sft.*", "plots", "report.*"))
    state = json.loads((copy / "run.json").read_text())
    for stage in ("synthesize", "sft", "rl", "eval"):
        del state["stages"][stage]
    (copy / "run.json").write_text(json.dumps(state))
    write_report(copy)
    md = (copy / "report.md").read_text()
    assert "The run has not finished: synthesize, sft, rl, eval have not run yet" in md
    assert "7 MCQs → 7 problems → 4 traces → 0 SFT examples → 2 RL problems |" in md
    assert "Format rate" not in md and "## Evaluation" not in md
    assert "### Problem 1: found" in md and "synthesis has not run yet" in md


def test_wide_intervals_are_marked_in_the_table(run_dir):
    table = section((run_dir / "report.md").read_text(), "Evaluation")
    rows = [line for line in table.splitlines() if line.startswith("| sample |")]
    assert len(rows) == 1 and rows[0].count("*too few items to compare*") == 3
    assert too_wide({"ci_low": 0.30, "ci_high": 0.71}) and not too_wide({"ci_low": 0.30, "ci_high": 0.70})


def test_the_eval_table_shows_ambiguous_answers_among_the_unparsed(tmp_path):
    from medo1.evaluate import score
    from medo1.report.details import eval_table

    rows = [{"correct": True, "method": "answer_is"}, {"correct": False, "method": "ambiguous"},
            {"correct": False, "method": "none"}, {"correct": False, "method": "letter"}]
    (tmp_path / "eval" / "sft").mkdir(parents=True)
    (tmp_path / "eval" / "sft" / "results.json").write_text(json.dumps({"benches": {"medqa": score(rows)}}))
    header, table = eval_table(tmp_path)
    assert header == ["Benchmark", "base (before)", "after SFT", "after RL"]
    assert table == [["medqa", "-", "25.0 [4.6, 69.9] (n=4, unparsed 50.0 of which 25.0 ambiguous) "
                                    "*too few items to compare*", "-"]]


def test_example_outputs_are_not_only_the_best(tmp_path):
    from medo1.report.details import examples

    good = "## Thinking\n\nhmm\n\n## Final Response\n\nThe answer is A."
    rows = [{"id": f"ok{i}", "output": good, "extracted": "A", "correct": True} for i in range(3)] + [
        {"id": "wrong", "output": "The answer is B.", "extracted": "B", "correct": False},
        {"id": "loop", "output": "The answer is A. The answer is B.", "extracted": None, "correct": False}]
    (tmp_path / "eval" / "rl").mkdir(parents=True)
    (tmp_path / "eval" / "rl" / "sample.items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [ex["id"] for ex in examples(tmp_path)] == ["ok0", "wrong", "loop"]
    assert [ex["id"] for ex in examples(tmp_path, k=4)] == ["ok0", "wrong", "loop", "ok1"]


# ---------------------------------------------------------------- the trace viewer


def test_trace_viewer_shows_the_search_next_to_its_sft_example(run_dir):
    md = (run_dir / "report.md").read_text()
    viewer = section(md, "Traces: from search to SFT example")
    problems = viewer.split("\n### Problem ")[1:]
    assert len(problems) == 3
    kept = [p for p in problems if p.startswith(("1: kept", "2: kept"))]
    assert len(kept) == 2
    # the longest searches first: wrong at the start, corrected by a refinement, then the SFT example
    for p in kept:
        assert "1. Call 1: attempt 1, start, initial reasoning → wrong; conclusion: “Sarcoidosis”" in p
        assert "2. Call 2: attempt 1, refinement 1, " in p and "→ correct" in p
        assert "[Verification] Check: That conclusion misses the key finding." in p
        assert p.index("→ correct") < p.index("**The SFT example** (variant complex)")
        assert "## Thinking\n\nFirst, the findings." in p and "as the findings show." in p
        assert "(from sample-" in p and ", option " in p  # where the problem came from
    assert problems[2].startswith("3: discarded") and "Sarcoidosis" in problems[2]
    html = (run_dir / "report.html").read_text()
    assert html.count('<div class="columns">') == 3 and html.count("<h4>The SFT example") == 2
    assert 'class="step bad"' in html and 'class="step ok"' in html and "<h4>No SFT example</h4>" in html


# ---------------------------------------------------------------- a real browser


def problems_of(page, root: Path) -> list[str]:
    """Everything wrong with a loaded page: images that did not load, links that lead nowhere, failed requests."""
    found = [f"image did not load: {i['src']}" for i in page.dom["images"] if not (i["complete"] and i["width"])]
    ids = set(page.dom["ids"])
    for link in page.dom["hrefs"] + page.dom["srcs"]:
        parsed = urlparse(link)
        if link.startswith("#"):
            if link[1:] not in ids:
                found.append(f"no anchor {link}")
        elif parsed.scheme in ("", "file") and not (root / unquote(parsed.path)).exists():
            found.append(f"no file {link}")
        elif parsed.scheme not in ("", "file", "data"):
            found.append(f"leaves the page: {link}")  # the report is self-contained
    return found + [f"request failed: {f}" for f in page.failed] + [f"console: {c}" for c in page.console]


needs_browser = pytest.mark.skipif(find_chromium() is None,
                                   reason="no Chromium installed (apt-get install chromium): the report's HTML is "
                                          "checked in a real headless browser")


@needs_browser
async def test_report_renders_in_a_real_browser(run_dir, tmp_path):
    from PIL import Image

    page = await load_page(find_chromium(), (run_dir / "report.html").as_uri(), tmp_path / "profile")
    assert problems_of(page, run_dir) == []
    dom = page.dom
    assert len(dom["images"]) == 3 and all(i["src"].startswith("data:image/png") for i in dom["images"])
    assert {"summary", "traces-from-search-to-sft-example", "files-of-this-run"} <= set(dom["ids"])
    assert "#summary" in dom["hrefs"] and "traces.jsonl" in dom["hrefs"]
    assert "too few items to compare" in dom["text"] and "Call 2: attempt 1, refinement 1" in dom["text"]
    assert dom["scroll_width"] <= dom["viewport_width"]  # nothing wider than the window
    [box] = dom["boxes"][".summary"]
    assert box["height"] > 100 and box["top"] < 600  # the summary box is on the first screen
    columns = dom["boxes"][".columns"]
    assert len(columns) == 3 and all(b["width"] > 900 for b in columns)  # search and SFT example side by side
    assert all(b["width"] > 300 and b["height"] > 100 for b in dom["boxes"]["img"])  # the plots are drawn

    shot = Image.open(io.BytesIO(page.png)).convert("RGB")
    assert shot.size == (1280, 1600)
    pixels = list(shot.getdata())
    assert sum(p != (255, 255, 255) for p in pixels) > 0.05 * len(pixels)  # not a blank page
    assert sum(abs(p[0] - 0xEE) + abs(p[1] - 0xF5) + abs(p[2] - 0xFF) < 8 for p in pixels) > 20_000  # the box


@needs_browser
async def test_the_browser_check_finds_broken_images_and_links(run_dir, tmp_path):
    html = (run_dir / "report.html").read_text()
    broken = html.replace('<a href="#funnel">', '<a href="#no-such-section">', 1).replace(
        '<a href="traces.jsonl">', '<a href="traces-missing.jsonl">', 1).replace(
        "<h1>", '<img src="plots/missing.png" alt="x"><img src="data:image/png;base64,AAAA" alt="y"><h1>', 1)
    (run_dir / "broken.html").write_text(broken)
    try:
        page = await load_page(find_chromium(), (run_dir / "broken.html").as_uri(), tmp_path / "profile")
    finally:
        (run_dir / "broken.html").unlink()
    found = problems_of(page, run_dir)
    assert "no anchor #no-such-section" in found and "no file traces-missing.jsonl" in found
    assert "no file plots/missing.png" in found
    assert sum(f.startswith("image did not load") for f in found) == 2
    assert any(f.startswith("request failed:") and "missing.png" in f for f in found)


def test_the_report_says_which_verifier_scored_the_run_and_what_match_measures(tmp_path, bundled_report):
    """The figures of `match` are measured on the bundled labelled set (or read back from the cache of that
    measurement, tests/test_verify_measured.py) when the report is built."""
    from medo1.report.story import caveats
    from medo1.verify.evaluation import GROUPS, Agreement

    (tmp_path / "recipe.yaml").write_text("models:\n  verifier: match\n")
    said = next(s for s in caveats(tmp_path) if s.startswith("Verdicts came from"))
    report = bundled_report("match")
    long = sum((report.by_kind[k] for k in GROUPS["long correct"]), Agreement())
    short = sum((report.by_kind[k] for k in GROUPS["short correct"]), Agreement())
    assert "the verifier `match` (search, synthesis, the RL reward)" in said
    assert f"({report.n} answers)" in said and f"precision is {100 * report.precision:.1f}%" in said
    assert f"{100 * short.recall:.1f}% of short correct answers and {100 * long.recall:.1f}% of long" in said
    held = sum(report.heldout_by_kind.values(), Agreement())
    assert f"on the {held.n} answers written after its rules and never tuned on, its precision is " \
           f"{100 * held.precision:.1f}%" in said
    assert "`match:strict` (for responses that state their answer alone, as synthesized ones do), a judge or a " \
           "trained classifier is the better verifier" in said
    (tmp_path / "recipe.yaml").write_text("models:\n  verifier: match\n  reward: match:strict\n")
    said = next(s for s in caveats(tmp_path) if s.startswith("Verdicts came from"))
    strict = bundled_report("match:strict")
    assert "the verifier `match` (search, synthesis); the RL reward from `match:strict`." in said
    assert f"`match:strict` decides by rules, without a model. Measured on the bundled labelled set ({strict.n} " \
           f"answers), its precision is {100 * strict.precision:.1f}%" in said
    (tmp_path / "recipe.yaml").write_text("models:\n  verifier: judge:openai:gpt-4o\nverifier:\n  enabled: true\n")
    said = next(s for s in caveats(tmp_path) if s.startswith("Verdicts came from"))
    assert said == ("Verdicts came from the verifier `judge:openai:gpt-4o` (search, synthesis); the RL reward from "
                    "the classifier the verifier stage trained.")
    (tmp_path / "recipe.yaml").write_text("models:\n  verifier: judge:openai:gpt-4o\nverifier:\n  enabled: true\n"
                                          "  join: match:strict\n")
    said = next(s for s in caveats(tmp_path) if s.startswith("Verdicts came from"))
    assert said.startswith("Verdicts came from the verifier `judge:openai:gpt-4o` (search, synthesis); the RL reward "
                           "from `match:strict` joined to the classifier the verifier stage trained (at the threshold "
                           "it chose for that join).")


def test_each_step_base_sft_rl_gets_a_paired_test(tmp_path):
    """The summary's accuracy row and the Evaluation section say whether each step changed the answers."""
    from medo1.evaluate import score
    from medo1.report.details import detail_sections
    from medo1.report.story import summary

    right = {"base": range(30), "sft": range(60), "rl": range(62)}  # of 100 questions: SFT +30, RL +2 more
    for key, ok in right.items():
        rows = [{"id": f"q{i}-r0", "item_id": f"q{i}", "run": 0, "bench": "medqa", "correct": i in ok,
                 "method": "answer_is", "output": "The answer is A."} for i in range(100)]
        (tmp_path / "eval" / key).mkdir(parents=True)
        (tmp_path / "eval" / key / "medqa.items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (tmp_path / "eval" / key / "results.json").write_text(json.dumps(
            {"model": key, "benches": {"medqa": {"title": "MedQA", **score(rows)}}}))
    fact = next(f for f in summary(tmp_path) if f.label.startswith("Accuracy, MedQA"))
    assert "; base → SFT: +30.0 points, p < 0.001; SFT → RL: +2.0 points, p = 0.500, not significant" in fact.text
    evaluation = next(s for s in detail_sections(tmp_path, {}) if s.title == "Evaluation")
    assert "| SFT → RL | medqa | +2.0 | 0.500 | not significant | McNemar exact, 0 vs 2 discordant of 100 |" \
        in evaluation.md


def test_the_hacking_watch_is_plotted_beside_the_reward_and_a_drift_is_warned(tmp_path):
    """An RL run whose reward climbs while more and more rewarded responses are lists: the plot is written,
    and report.md carries the watch's warning line (the one training printed)."""
    from medo1.train.hacking import drift_warning

    steps = 40
    rows = [{"step": s, "reward": 0.4 + 0.5 * s / steps, "correct_rate": 0.4 + 0.5 * s / steps,
             "uncommitted_rate": 0.02 if s <= 10 else 0.02 + 0.3 * (s - 10) / 30, "rewarded_responses": 50,
             "final_response_chars": 120 + 4 * s, "no_format_rate": 0.05, "kl": 0.001 * s} for s in range(1, steps + 1)]
    (tmp_path / "ckpt" / "rl").mkdir(parents=True)
    metrics = tmp_path / "ckpt" / "rl" / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    md_path, html_path = write_report(tmp_path)
    md = md_path.read_text()
    warning = drift_warning(rows)
    assert warning and warning.startswith("warning: possible reward hacking") and md.count(warning) == 1
    assert warning in section(md, "What this run can and cannot show")
    body = section(md, "RL reward hacking watch")
    assert "![RL reward hacking watch](plots/rl_reward_hacking_watch.png)" in body and "uncommitted_rate" in body
    png = tmp_path / "plots" / "rl_reward_hacking_watch.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "data:image/png;base64," in html_path.read_text()

    # a steady share: the same plot, no warning
    metrics.write_text("".join(json.dumps({**r, "uncommitted_rate": 0.02}) + "\n" for r in rows))
    md = write_report(tmp_path)[0].read_text()
    assert "possible reward hacking" not in md and "## RL reward hacking watch" in md
