"""Stages 0-1 fully offline: the bundled sample, the embedded SmolLM2-135M teacher (llama.cpp, JSON
schemas as grammars) and the `match` verifier, through the real CLI commands. Small N, small budgets.

A 135M model rarely solves a clinical question, so the search uses the label-hint round (a refinement
of the initial CoT), in which a grammar-backed teacher must open with a Verification and state the
reference as its conclusion: the run then yields traces and SFT examples, each marked as label-hinted,
and every id is accounted for at every stage.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.data import SAMPLE_MCQ
from medo1.jsonl import failed_path, read_jsonl
from medo1.records import MCQ, Problem, SearchTrace, SFTExample
from medo1.thinking import format_target, parse_output

pytestmark = pytest.mark.embedded


def ids_in(path) -> set[str]:
    return {json.loads(line)["id"] for line in path.read_text().splitlines()} if path.exists() else set()


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow  # stages 0-1 end to end on the embedded model (`pytest -m slow`)
def test_stage0_and_stage1_offline(tmp_path):
    # three plain train questions and one the rules drop (each embedded call takes seconds on 2 cores)
    rows = [json.loads(line) for line in SAMPLE_MCQ.read_text().splitlines()]
    picked = [r for r in rows if r["split"] == "train" and not r.get("meta")][:3]
    picked += [r for r in rows if r.get("meta", {}).get("expect") == "rule_filtered"][:1]
    mcq_path = tmp_path / "mcq.jsonl"
    mcq_path.write_text("".join(json.dumps(r) + "\n" for r in picked))
    mcq_ids = {m.id for m in read_jsonl(mcq_path, MCQ)}

    problems = tmp_path / "problems.jsonl"
    invoke("curate", "--input", str(mcq_path), "--out", str(problems), "--teacher", "embedded",
           "--reformat", "rule", "--max-tokens", "32")
    kept = read_jsonl(problems, Problem)
    assert {p.mcq_id for p in kept} | ids_in(failed_path(problems, "rejected")) == mcq_ids
    assert len(ids_in(failed_path(problems, "rejected"))) >= 1  # at least the rule-filtered one
    assert kept, "the embedded filter passed no question"

    traces = tmp_path / "traces.jsonl"
    invoke("search", "--problems", str(problems), "--out", str(traces), "--teacher", "embedded",
           "--verifier", "match", "--max-attempts", "1", "--max-depth", "0", "--label-hint",
           "--max-tokens", "384")
    found = read_jsonl(traces, SearchTrace)
    assert {t.id for t in found} | ids_in(failed_path(traces)) == {p.id for p in kept}
    assert any(t.found for t in found)
    for t in found:
        assert t.steps[0].strategy == "init" and t.steps[-1].strategy == "label_hint"
        assert all(s.cot[-1].action == "Verification" and s.cot[-2].action == "Final Conclusion" for s in t.steps)
        assert t.found == t.label_hint  # a 135M teacher is only "right" when told the answer
        # the hint round is a refinement: its reply opens with a Verification (the grammar holds the
        # model to that shape) and the trajectory is the initial CoT without its Verification + the reply
        init, hint = t.steps[0].cot, t.steps[-1].cot
        assert init[0].action == "Inner Thinking" and hint[0].action == "Verification"
        if t.found:
            assert t.trajectory == init[:-1] + hint
            assert hint[-2].content == t.answer  # the grammar fixed the conclusion to the reference

    sft = tmp_path / "sft.jsonl"
    output = invoke("synthesize", "--traces", str(traces), "--out", str(sft), "--teacher", "embedded",
                    "--max-tokens", "400", "--temperature", "0.7", "--format", "official")
    examples = read_jsonl(sft, SFTExample)
    assert {e.problem_id for e in examples} | ids_in(failed_path(sft)) == {t.id for t in found}
    assert examples, output
    for e in examples:
        assert len([line for line in e.complex_cot.splitlines() if line.strip()]) >= 2
        assert parse_output(format_target(e.complex_cot, e.response)).well_formed
    assert len(json.loads((tmp_path / "sft.official.json").read_text())) == len(examples)
    for stage in ("problems", "traces", "sft"):
        assert json.loads((tmp_path / f"{stage}.usage.json").read_text())["total"]["calls"] > 0
