"""The bundled demo end to end: `medo1 run --quick` on the embedded model, fully offline (8-14 minutes on 2 idle cores):
every stage runs, SFT teaches the output format (held-out format rate >= 80%), RL keeps it, and the
run directory holds final weights only (no optimizer state). It is as long as the rest of the suite together, so it
runs apart: `pytest -m slow` (.ci/run runs it after the default suite)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medo1.pipeline import STAGES
from medo1.thinking import parse_output
from tests.conftest import default_path_env

pytestmark = [pytest.mark.embedded, pytest.mark.slow]


@pytest.mark.timeout(1800)
def test_quick_demo_runs_every_stage_and_writes_the_report(tmp_path):
    run_dir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "medo1", "run", "--quick", "--out", str(run_dir)],
                            capture_output=True, text=True, timeout=1500, env=default_path_env())
    assert result.returncode == 0, result.stderr[-3000:]

    stages = json.loads((run_dir / "run.json").read_text())["stages"]
    assert list(stages) == list(STAGES)
    assert stages["curate"]["summary"]["input"] == 24 and stages["curate"]["summary"]["kept"] > 0  # quick: data.limit
    assert stages["synthesize"]["summary"]["written"] > 0
    assert stages["sft"]["summary"]["steps"] > 0 and stages["rl"]["summary"]["steps"] == 1
    for model in ("base", "sft", "rl"):
        results = json.loads((run_dir / "eval" / model / "results.json").read_text())
        assert results["benches"]["sample"]["n"] == 6

    # The demo teaches the format: enough examples reach SFT, and after SFT (and after RL) the model
    # writes `## Thinking ... ## Final Response` on at least 80% of the held-out questions.
    assert stages["synthesize"]["summary"]["written"] >= 8
    rates = {model: format_rate(run_dir / "eval" / model) for model in ("base", "sft", "rl")}
    assert rates["base"] < 0.5 and rates["sft"] >= 0.8 and rates["rl"] >= 0.8, rates

    # Disk: final weights only; the resumable checkpoints (optimizer state) went once they were written.
    assert not list((run_dir / "ckpt").glob("*/checkpoint-*"))
    assert (run_dir / "ckpt" / "sft" / "model.safetensors").is_file()
    # The whole run directory, with the q8_0 GGUF copies evaluation answers from on CPUs without native bf16
    # (elsewhere transformers answers: eval's "auto" engine), stays under 2 GB.
    engine = json.loads((run_dir / "eval" / "sft" / "results.json").read_text())["setup"]["backend"]
    assert bool(list((run_dir / "ckpt").glob("*.q8_0.gguf"))) == (engine == "llama.cpp q8_0"), engine
    assert sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file()) < 2 * 10**9

    report = (run_dir / "report.md").read_text()
    for section in ("## Funnel", "## Calls, tokens and cost", "## Evaluation", "## Output format", "## SFT loss",
                    "## Example outputs"):
        assert section in report
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()

    # A second run finds every stage done: no model is loaded, nothing is recomputed.
    again = subprocess.run([sys.executable, "-m", "medo1", "run", "--quick", "--out", str(run_dir)],
                           capture_output=True, text=True, timeout=300, env=default_path_env())
    assert again.returncode == 0 and again.stderr.count("skipped") == len(STAGES)
    assert json.loads((run_dir / "run.json").read_text())["stages"] == stages


def format_rate(eval_dir) -> float:
    outputs = [json.loads(line)["output"] for path in sorted(eval_dir.glob("*.items.jsonl"))
               for line in path.read_text().splitlines() if line.strip()]
    assert outputs
    return sum(parse_output(o).well_formed for o in outputs) / len(outputs)
