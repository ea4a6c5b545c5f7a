"""The bundled demo end to end: `medo1 run --quick` on the embedded model, fully offline (~5 minutes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medo1.pipeline import STAGES

pytestmark = pytest.mark.embedded


def test_quick_demo_runs_every_stage_and_writes_the_report(tmp_path):
    run_dir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "medo1", "run", "--quick", "--out", str(run_dir)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    stages = json.loads((run_dir / "run.json").read_text())["stages"]
    assert list(stages) == list(STAGES)
    assert stages["curate"]["summary"]["input"] == 12 and stages["curate"]["summary"]["kept"] > 0
    assert stages["synthesize"]["summary"]["written"] > 0
    assert stages["sft"]["summary"]["steps"] > 0 and stages["rl"]["summary"]["steps"] == 1
    for model in ("base", "sft", "rl"):
        results = json.loads((run_dir / "eval" / model / "results.json").read_text())
        assert results["benches"]["sample"]["n"] == 6

    report = (run_dir / "report.md").read_text()
    for section in ("## Funnel", "## Calls, tokens and cost", "## Evaluation", "## Output format", "## SFT loss",
                    "## Example outputs"):
        assert section in report
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()

    # A second run finds every stage done: no model is loaded, nothing is recomputed.
    again = subprocess.run([sys.executable, "-m", "medo1", "run", "--quick", "--out", str(run_dir)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr.count("skipped") == len(STAGES)
    assert json.loads((run_dir / "run.json").read_text())["stages"] == stages
