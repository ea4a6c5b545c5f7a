"""The RL stage on verl: write the data, plan the overrides (verl_overrides) and validate them with verl's
own config, then run the launch script, or only write it for a cluster scheduler.

    medo1 rl --engine verl --problems rl.jsonl --model ckpt/sft --out ckpt/rl --n-gpus-per-node 8
    medo1 rl --engine verl --algo grpo ...            # GRPO on verl with the same reward
    medo1 rl --engine verl ... --print-launch         # write the data and the script, start nothing
    sbatch ckpt/rl/verl_launch.sh                     # or bash, on one node

What `<out>` holds:
    verl_data/          train.parquet, val.parquet (held-out problems), skipped.json (prompts too long)
    verl_launch.sh      the launch: Ray across the Slurm allocation when nnodes > 1, verl (medo1.integrations.
                        verl_main), then `finish`
    verl/               verl's checkpoints, metrics, rollouts, TensorBoard logs, medo1's reward records, and
                        medo1_plan.json (what the checkpoints were trained on)
    verl.failed.jsonl   verifications that gave no verdict, with the reason
    after `finish`      the Hugging Face model, metrics.jsonl and medo1_verl.json, as after our PPO

Re-running resumes from verl's last checkpoint, unless the training problems, the batch size or the seed
changed since it was saved: that is refused with one line (verl's dataloader state would index other data);
`fresh` moves the earlier attempt aside (`<out>/verl.<time>`) and starts over.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from medo1.errors import Medo1Error
from medo1.integrations.verl_overrides import compose, plan
from medo1.integrations.verl_settings import Plan, VerlJob, VerlSettings, is_api_judge, metrics_path, settings_for
from medo1.verify.combined import split_spec

log = logging.getLogger(__name__)

ENTRY = "medo1.integrations.verl_main"
PLAN_FILE = "medo1_plan.json"
RAY_PORT = 6379


def keep_metrics(out: str | Path) -> None:
    """Move an earlier attempt's verl metrics aside before verl (resuming) truncates them."""
    path = Path(metrics_path(out))
    if path.exists() and path.stat().st_size:
        path.replace(path.with_name(f"metrics.{time.time_ns()}.jsonl"))


def launch_command(overrides: list[str], python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", ENTRY, *overrides]


def shell_command(command: list[str]) -> str:
    """The command as one shell line, one override per line (for a scheduler script)."""
    head = " ".join(shlex.quote(c) for c in command[:3])
    return " \\\n    ".join([head, *(shlex.quote(c) for c in command[3:])])


# ---------------------------------------------------------------- resuming


def read_plan(out: str | Path) -> dict[str, Any]:
    path = Path(out) / "verl" / PLAN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def move_aside(out: Path) -> None:
    """Start over: an earlier attempt's verl folder is kept beside, not removed."""
    verl = out / "verl"
    if verl.exists():
        aside = out / f"verl.{time.strftime('%Y%m%d-%H%M%S')}"
        verl.rename(aside)
        log.warning("verl: starting over; the earlier attempt is kept in %s", aside)


def check_resume(out: Path, state: Mapping[str, Any], *, resume: bool | None, fresh: bool) -> None:
    """Before anything is written: resume, or refuse in one line (`fresh` starts over: nothing to check)."""
    from medo1.integrations.verl_ckpt import latest_step_dir

    if fresh:
        return
    step = latest_step_dir(out / "verl")
    if step is None:
        return
    if resume is False:
        raise Medo1Error(f"{out} already holds verl checkpoints (latest: {step.name}); pass --resume to continue "
                         "them, or --fresh to start over")
    stored = read_plan(out)
    for key, what in (("fingerprint", "the training problems"), ("train_batch_size", "the batch size"),
                      ("seed", "the seed")):
        if key in stored and stored[key] != state[key]:
            raise Medo1Error(f"{state['problems']}: {what} changed since verl's checkpoint {step} was saved "
                             f"({stored[key]} -> {state[key]}); it cannot resume on other data: start over with "
                             "--fresh (medo1 run: --from rl --force)")


# ---------------------------------------------------------------- preparing


def prepare(problems: str, model: str, out: str | Path, *, algo: str = "ppo", ppo: Mapping[str, Any] | None = None,
            settings: VerlSettings | None = None, run_name: str = "run", verifier: str = "match", lang: str = "en",
            prompts: str | None = None, cache: str | bool = True, concurrency: int = 32,
            python: str | None = None, resume: bool | None = None, fresh: bool = False) -> tuple[list[str], Plan]:
    """Write verl's data under `<out>/verl_data`, plan the overrides and validate them with verl's config.
    Returns the command and the plan (its overrides and the notes to show)."""
    from transformers import AutoTokenizer

    from medo1.integrations.verl_data import verl_rows, write_rows
    from medo1.integrations.verl_settings import prompts_per_step
    from medo1.llm.cache import default_cache_path
    from medo1.llm.chat_template import check_chat_template
    from medo1.train.common import resolve_model_path
    from medo1.train.data import load_problems

    s = settings or VerlSettings()
    p = settings_for(algo, ppo)
    out = Path(out).resolve()

    def local(spec: str) -> str:  # Ray workers on other nodes, other working directories: absolute paths
        path = resolve_model_path(spec)
        return str(Path(path).resolve()) if Path(path).exists() else str(path)

    model_path = local(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path)
    except (OSError, ValueError) as err:
        raise Medo1Error(f"{model}: its tokenizer does not load here ({' '.join(str(err).split())[:200]})") from None
    check_chat_template(tokenizer, model)
    validate = s.test_freq != -1 or s.val_before_train  # no validation: nothing is held out for it
    judged = any(part.startswith("judge:") for part in split_spec(verifier))
    rows = verl_rows(load_problems(problems), run_name=run_name, val_size=s.val_size if validate else 0,
                     seed=int(p["seed"]), style="model" if judged else "rule",
                     tokenizer=tokenizer, max_prompt_length=int(p["max_prompt_length"]))
    state = {"problems": str(problems), "algo": algo, "fingerprint": rows.fingerprint,
             "train_batch_size": prompts_per_step(algo, p), "seed": int(p["seed"]),
             "keep_checkpoints": int(p.get("keep_checkpoints") or 0)}
    check_resume(out, state, resume=resume, fresh=fresh)
    files = out / "verl_data"
    value_model = p.get("value_model")
    job = VerlJob(train_files=str(files / "train.parquet"), val_files=str(files / "val.parquet"), model=model_path,
                  out=str(out), train_rows=len(rows.train), algo=algo, run_name=run_name, verifier=verifier,
                  value_model=local(value_model) if value_model else None, lang=lang,
                  prompts=str(Path(prompts).resolve()) if prompts else None,
                  cache=str(Path(default_cache_path() if cache is True else cache).resolve()) if cache else False,
                  concurrency=concurrency, has_val=bool(rows.val))
    the_plan = plan(job, ppo, s)
    if rows.skipped:
        the_plan.notes.append(f"verl: {len(rows.skipped)} problems have prompts over max_prompt_length "
                              f"{p['max_prompt_length']} and are left out (listed in {files / 'skipped.json'})")
    compose(the_plan.overrides)  # all checked: only now is anything moved or written
    if fresh:
        move_aside(out)
    write_rows(rows, files)
    (out / "verl").mkdir(parents=True, exist_ok=True)  # verl's file logger opens its file there without creating it
    (out / "verl" / PLAN_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    return launch_command(the_plan.overrides, python), the_plan


# ---------------------------------------------------------------- the launch script


def ray_cluster(python: str, nnodes: int, gpus: int) -> str:
    """Shell lines that start Ray across a Slurm allocation (head on the first node, workers on the others;
    verl's examples/tutorial/slurm), unless RAY_ADDRESS names a running cluster or this node is in one."""
    ray = shlex.quote(str(Path(python).parent / "ray"))
    py = shlex.quote(python)
    return f"""NNODES={nnodes}
GPUS_PER_NODE={gpus}
if [ -z "${{RAY_ADDRESS:-}}" ] && [ -z "${{SLURM_JOB_NODELIST:-}}" ] && {ray} status >/dev/null 2>&1; then
  export RAY_ADDRESS=auto  # a cluster started by hand (ray start) that this node belongs to
fi
if [ -z "${{RAY_ADDRESS:-}}" ]; then
  if [ -z "${{SLURM_JOB_NODELIST:-}}" ]; then
    echo "medo1: this run spans $NNODES nodes: submit it with sbatch (see the #SBATCH lines)," \
         "or start Ray across the nodes (ray start) first" >&2
    exit 1
  fi
  mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
  if [ "${{#nodes[@]}}" -lt "$NNODES" ]; then
    echo "medo1: the allocation has ${{#nodes[@]}} nodes; this run needs $NNODES" >&2
    exit 1
  fi
  head_ip=$(srun --nodes=1 --ntasks=1 -w "${{nodes[0]}}" hostname --ip-address | awk '{{print $1}}')
  export RAY_ADDRESS="$head_ip:${{RAY_PORT:-{RAY_PORT}}}"
  trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
  srun --nodes=1 --ntasks=1 -w "${{nodes[0]}}" {ray} start --head --node-ip-address="$head_ip" \\
      --port="${{RAY_PORT:-{RAY_PORT}}}" --num-gpus="$GPUS_PER_NODE" --block &
  for node in "${{nodes[@]:1:$((NNODES - 1))}}"; do
    srun --nodes=1 --ntasks=1 -w "$node" {ray} start --address="$RAY_ADDRESS" --num-gpus="$GPUS_PER_NODE" --block &
  done
  {py} - "$NNODES" <<'PYEOF'
import sys, time
import ray
want, deadline = int(sys.argv[1]), time.time() + 600
while True:  # the head first, then every worker node
    try:
        ray.init(address="auto", logging_level="ERROR")
        break
    except Exception:
        if time.time() > deadline:
            sys.exit("medo1: the Ray head did not start in 10 minutes")
        time.sleep(3)
while sum(n["Alive"] for n in ray.nodes()) < want:
    if time.time() > deadline:
        sys.exit(f"medo1: only {{sum(n['Alive'] for n in ray.nodes())}} of {{want}} Ray nodes joined in 10 minutes")
    time.sleep(3)
print(f"medo1: Ray runs on {{want}} nodes at {{ray.get_runtime_context().gcs_address}}")
PYEOF
fi
"""


def launch_script(command: list[str], out: str | Path, *, nnodes: int = 1, n_gpus_per_node: int = 8,
                  notes: list[str] | None = None, judge: bool = False) -> str:
    """A shell script for `bash` on one node or `sbatch` on several: Ray across the allocation, verl, then the
    Hugging Face conversion and metrics."""
    out = Path(out).resolve()
    python = command[0]
    metrics = metrics_path(out)
    lines = ["#!/usr/bin/env bash", f"#SBATCH --nodes={nnodes}", "#SBATCH --ntasks-per-node=1",
             f"#SBATCH --gpus-per-node={n_gpus_per_node}",
             f"# medo1: the RL stage on verl, {nnodes} node(s) x {n_gpus_per_node} GPU(s): bash this file on one "
             "node, or sbatch it (add your partition, time and CPUs).",
             "# Re-running it resumes from verl's last checkpoint."]
    if judge:
        lines.append("# The judge reads OPENAI_API_KEY (and OPENAI_BASE_URL) from the environment this script runs "
                     "in; it reaches the reward workers through Ray, in memory, and is written nowhere.")
    lines += [f"# {note}" for note in notes or []]
    lines += ["set -euo pipefail", f"mkdir -p {shlex.quote(str(out / 'verl'))}",
              f"export VERL_FILE_LOGGER_PATH={shlex.quote(metrics)}",
              f"if [ -s {shlex.quote(metrics)} ]; then  # a resumed run keeps the metrics of earlier attempts",
              f"  mv {shlex.quote(metrics)} {shlex.quote(metrics[:-len('.jsonl')])}.\"$(date +%s%N)\".jsonl", "fi"]
    body = "\n".join(lines) + "\n"
    if nnodes > 1:
        body += ray_cluster(python, nnodes, n_gpus_per_node)
    finish_line = " ".join(shlex.quote(c) for c in [python, "-m", "medo1.integrations.verl_launch", "finish", str(out)])
    return body + shell_command(command) + "\n" + finish_line + "\n"


# ---------------------------------------------------------------- after the run


def finish(out: str | Path, python: str | None = None) -> dict[str, Any]:
    """verl's last actor checkpoint -> a Hugging Face checkpoint in `out`; metrics -> `out/metrics.jsonl`;
    then only the newest `keep_checkpoints` of verl's checkpoints are kept."""
    from medo1.integrations.verl_ckpt import convert_checkpoint, import_metrics, latest_step_dir, prune_checkpoints

    out = Path(out)
    step_dir = latest_step_dir(out / "verl")
    if step_dir is None:
        raise Medo1Error(f"{out / 'verl'}: verl saved no checkpoint (trainer.save_freq must be > 0)")
    convert_checkpoint(step_dir / "actor", out, python=python)
    steps = import_metrics(out / "verl", out)
    state = read_plan(out)
    summary = {"engine": "verl", "algo": state.get("algo", "ppo"), "checkpoint": str(step_dir), "steps": steps}
    (out / "medo1_verl.json").write_text(json.dumps(summary, indent=2) + "\n")
    if "keep_checkpoints" in state:
        prune_checkpoints(out / "verl", int(state["keep_checkpoints"]))
    return summary


def run_verl(problems: str, model: str, out: str | Path, *, print_launch: bool = False, **kwargs: Any):
    """The RL stage on verl: prepare and validate, write `<out>/verl_launch.sh`, then run it (verl, then
    `finish`; returns the output directory), or with `print_launch` return its text and start nothing."""
    import subprocess

    out = Path(out).resolve()
    command, the_plan = prepare(problems, model, out, **kwargs)
    s = kwargs.get("settings") or VerlSettings()
    script = launch_script(command, out, nnodes=s.nnodes, n_gpus_per_node=s.n_gpus_per_node, notes=the_plan.notes,
                           judge=is_api_judge(kwargs.get("verifier", "match")))
    path = out / "verl_launch.sh"
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    for note in the_plan.notes:
        log.warning(note)
    if print_launch:
        return script
    done = subprocess.run(["bash", str(path)])
    if done.returncode != 0:
        raise Medo1Error(f"verl failed (exit {done.returncode}); re-running {path} resumes from verl's last "
                         "checkpoint")
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m medo1.integrations.verl_launch finish OUT`: convert and import after a verl run."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "finish":
        raise SystemExit("usage: python -m medo1.integrations.verl_launch finish OUT")
    try:
        print(json.dumps(finish(args[1]), indent=2))
    except Medo1Error as err:
        raise SystemExit(f"medo1: {err}") from None


if __name__ == "__main__":
    main()
