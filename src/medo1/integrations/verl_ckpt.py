"""After a verl PPO run: its checkpoint becomes a Hugging Face checkpoint in medo1's RL output
directory (so `eval`, `chat` and the report go on as after our PPO), and its metrics become medo1's
`metrics.jsonl`.

verl's layout under <out>/verl (trainer.default_local_dir):
    latest_checkpointed_iteration.txt     the last step saved
    global_step_<N>/actor/                FSDP shards `model_world_size_<W>_rank_<r>.pt`,
                                          `fsdp_config.json`, `huggingface/` (config + tokenizer)
    global_step_<N>/critic/               the value model (not converted)
    rollouts/<step>.jsonl                 every training sample with its score (trainer.rollout_data_dir)
    rewards/<host>-<pid>.jsonl            medo1's reward of every sample: correct, formatted, verify_failed,
                                          the reward-hacking watch's terms (verl's V1 rollout dump keeps
                                          only the score)
    tensorboard/                          verl's TensorBoard logger (TENSORBOARD_DIR)
and verl's `file` logger writes one line per step, {"step": N, "data": {metric: value}}, to the file
named by VERL_FILE_LOGGER_PATH (we point it at <out>/verl/metrics.jsonl).

The conversion is verl's own: `python -m verl.model_merger merge --backend fsdp`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from medo1.errors import Medo1Error

TRACKER = "latest_checkpointed_iteration.txt"
STEP_RE = re.compile(r"^global_step_(\d+)$")
# verl's metric -> the name medo1's report reads
METRIC_NAMES = {"critic/score/mean": "reward", "actor/reward_kl_penalty": "kl"}
# verl's validation metrics (val-core|val-aux/<data_source>/<key>/mean@1) -> medo1's names
VAL_NAMES = {"reward": "val_reward", "correct": "val_correct_rate", "formatted": "val_format_rate"}
VAL_RE = re.compile(r"^val-(?:core|aux)/.+/([^/]+)/mean@1$")


def latest_step_dir(verl_dir: str | Path) -> Path | None:
    """The last `global_step_<N>` folder verl finished saving (its tracker file), else the highest one."""
    root = Path(verl_dir)
    tracker = root / TRACKER
    if tracker.exists():
        path = root / f"global_step_{int(tracker.read_text().strip())}"
        if path.is_dir():
            return path
    steps = [(int(m.group(1)), p) for p in root.glob("global_step_*") if (m := STEP_RE.match(p.name))]
    return max(steps)[1] if steps else None


def merge_command(actor_dir: str | Path, target_dir: str | Path, python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
            "--local_dir", str(actor_dir), "--target_dir", str(target_dir)]


def convert_checkpoint(actor_dir: str | Path, target_dir: str | Path, *, python: str | None = None) -> Path:
    """verl's FSDP actor checkpoint -> a Hugging Face checkpoint (model, config, generation config,
    tokenizer) in `target_dir`, by verl's model merger. Raises Medo1Error with its last output lines."""
    actor, target = Path(actor_dir), Path(target_dir)
    if not (actor / "fsdp_config.json").exists():
        raise Medo1Error(f"{actor}: not a verl FSDP actor checkpoint (no fsdp_config.json)")
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(merge_command(actor, target, python), capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise Medo1Error(f"verl model merger failed on {actor} (exit {done.returncode}): {tail}")
    return target


def metrics_files(verl_dir: str | Path) -> list[Path]:
    """verl's metrics of every attempt, oldest first: `metrics.<time>.jsonl` moved aside before a resumed
    run (verl's file logger truncates its file), then `metrics.jsonl`."""
    root = Path(verl_dir)
    earlier = sorted((p for p in root.glob("metrics.*.jsonl") if p.name.split(".")[1].isdigit()),
                     key=lambda p: int(p.name.split(".")[1]))
    return earlier + ([root / "metrics.jsonl"] if (root / "metrics.jsonl").exists() else [])


def read_verl_metrics(files: list[Path]) -> dict[int, dict[str, Any]]:
    """verl's file-logger lines by step (the last line of a step wins: a resumed run redoes steps)."""
    rows: dict[int, dict[str, Any]] = {}
    for file in files:
        rows.update(_read_metrics_file(file))
    return rows


def _read_metrics_file(file: Path) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a half-written line from a killed run
        if isinstance(row, dict) and isinstance(row.get("data"), dict) and "step" in row:
            rows[int(row["step"])] = row["data"]
    return rows


def reward_records(verl_dir: str | Path) -> dict[str, dict[str, Any]]:
    """medo1's per-sample rewards (verl_reward `samples_dir`), by the key of response and answer."""
    records: dict[str, dict[str, Any]] = {}
    for file in sorted(Path(verl_dir, "rewards").glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                records[row["key"]] = row
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a half-written line from a killed worker
    return records


def rollout_rates(rollout_dir: str | Path, records: dict[str, dict[str, Any]] | None = None
                  ) -> dict[int, dict[str, float]]:
    """Per step, from verl's rollout dump joined with medo1's reward records: the share of samples verified
    correct, well formed, and whose verification failed, and the reward-hacking watch's metrics
    (medo1.train.hacking: uncommitted_rate, rewarded_responses, final_response_chars, no_format_rate). A
    sample without its record counts by its score (1.0 correct, above 0.0 well formed), its watch terms
    taken from its text."""
    from medo1.integrations.verl_reward import sample_key
    from medo1.train.hacking import SAMPLE_TERMS, sample_terms, tally, watch_metrics

    records = records or {}
    rates: dict[int, dict[str, float]] = {}
    for file in Path(rollout_dir).glob("*.jsonl"):
        if not file.stem.isdigit():
            continue
        rows = []
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                sample = json.loads(line)
                score = float(sample["score"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
            output = str(sample.get("output") or "")
            found = records.get(sample_key(output, str(sample.get("gts"))))
            if found:
                row = {k: float(found[k]) for k in ("correct", "formatted", "verify_failed")}
            else:
                row = {"correct": float(score >= 1.0), "formatted": float(score > 0.0), "verify_failed": None}
            if found and all(k in found for k in SAMPLE_TERMS):
                row.update({k: float(found[k]) for k in SAMPLE_TERMS})
            else:  # no record, or one written before the watch
                row.update(sample_terms(output, bool(row["formatted"])))
            rows.append(row)
        if rows:
            failed = [r["verify_failed"] for r in rows if r["verify_failed"] is not None]
            rates[int(file.stem)] = {"correct_rate": sum(r["correct"] for r in rows) / len(rows),
                                     "format_rate": sum(r["formatted"] for r in rows) / len(rows),
                                     **({"verify_failed_rate": sum(failed) / len(failed)} if failed else {}),
                                     **watch_metrics(tally(rows))}
    return rates


def import_metrics(verl_dir: str | Path, out: str | Path) -> int:
    """Write `<out>/metrics.jsonl` from verl's metrics, rollouts and medo1's reward records: per step the names
    medo1's report reads (reward, kl, correct_rate, format_rate, verify_failed_rate, the reward-hacking
    watch's uncommitted_rate, rewarded_responses, final_response_chars and no_format_rate; val_reward,
    val_correct_rate, val_format_rate at validation steps) and every verl metric under its own name.
    verl's trainer owns the loop, so the watch's warning line (medo1.train.hacking) is printed here, on
    stderr, once the run is over. Returns the number of steps."""
    verl = Path(verl_dir)
    metrics = read_verl_metrics(metrics_files(verl))
    rates = rollout_rates(verl / "rollouts", reward_records(verl))
    lines = []
    for step in sorted(metrics):
        data = metrics[step]
        row: dict[str, Any] = {"step": step}
        row.update({ours: data[theirs] for theirs, ours in METRIC_NAMES.items() if theirs in data})
        row.update(rates.get(step, {}))
        for name, value in data.items():
            if (m := VAL_RE.match(name)) and m.group(1) in VAL_NAMES:
                row[VAL_NAMES[m.group(1)]] = value
        row.update({k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
        lines.append(json.dumps(row))
    target = Path(out) / "metrics.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(target)
    from medo1.train.hacking import drift_warning

    if warning := drift_warning(json.loads(line) for line in lines):
        print(warning, file=sys.stderr, flush=True)
    return len(lines)


def prune_checkpoints(verl_dir: str | Path, keep: int) -> list[Path]:
    """Once the final weights are written: keep the newest `keep` of verl's checkpoints (0: none). Returns
    the folders removed."""
    root = Path(verl_dir)
    steps = sorted((int(m.group(1)), p) for p in root.glob("global_step_*") if (m := STEP_RE.match(p.name)))
    removed = [p for _, p in steps[: max(0, len(steps) - keep)]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    if keep == 0 and (root / TRACKER).exists():
        (root / TRACKER).unlink()
    return removed
