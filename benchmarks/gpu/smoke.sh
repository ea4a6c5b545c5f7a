#!/usr/bin/env bash
# GPU smoke check of the training path, on one GPU, in under 10 minutes:
#   1. SFT of the embedded SmolLM2-135M (shipped in the package: no hub) under DeepSpeed ZeRO-3
#      through `accelerate launch` with configs/accelerate/zero3.yaml;
#   2. 3 PPO steps from that checkpoint, same launch (policy + value + reference under ZeRO-3);
#   3. evaluation of the PPO policy with the `hf` backend on the bundled questions.
# Prints each phase's wall seconds and peak GPU memory (allocated / reserved by PyTorch).
#
#   bash benchmarks/gpu/smoke.sh                 # on a bare machine it installs what it needs first
#                                                # (benchmarks/gpu/setup.sh: a C compiler, a venv with .[test])
#   MODEL=hf:/path/to/ckpt bash benchmarks/gpu/smoke.sh   # another local checkpoint
#   OUT=/tmp/smoke PPO_STEPS=3 SFT_STEPS=20 ...  # where to write, how long each phase runs
#
# On a machine without a GPU the same script runs on CPU (DeepSpeed's CPU accelerator, fp32): slower, no
# memory figures, but every step is exercised.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXTRAS=test source benchmarks/gpu/setup.sh
MODEL=${MODEL:-embedded}
OUT=${OUT:-$(mktemp -d /tmp/medo1-gpu-smoke.XXXX)}
SFT_STEPS=${SFT_STEPS:-20}
PPO_STEPS=${PPO_STEPS:-3}
EVAL_ITEMS=${EVAL_ITEMS:-32}
mkdir -p "$OUT"

if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then PRECISION=bf16; else PRECISION=no; fi
"$PY" - "$OUT" "$PRECISION" <<'PY'
import json, sys, yaml
from pathlib import Path
from importlib.resources import files
out, precision = Path(sys.argv[1]), sys.argv[2]
config = yaml.safe_load(open("configs/accelerate/zero3.yaml"))
config.update(num_processes=1, mixed_precision=precision)          # the shipped config, on one device
(out / "zero3-1.yaml").write_text(yaml.safe_dump(config))
mcqs = [json.loads(l) for l in files("medo1.data").joinpath("sample_mcq.jsonl").read_text().splitlines() if l.strip()]
with open(out / "sft.jsonl", "w") as f:                             # the SFT format, from the bundled bank
    for m in mcqs:
        f.write(json.dumps({"Question": m["question"], "Complex_CoT": "Let me weigh each option against the findings.",
                            "Response": f"The answer is {m['answer']}. {m['options'][m['answer']]}"}) + "\n")
with open(out / "problems.jsonl", "w") as f:
    for m in mcqs:
        f.write(json.dumps({"id": m["source_id"], "question": m["question"], "answer": m["options"][m["answer"]]}) + "\n")
PY

LAUNCH=("$PY" -m accelerate.commands.launch --config_file "$OUT/zero3-1.yaml" benchmarks/gpu/phase.py)
"${LAUNCH[@]}" "$OUT/sft.json" sft --data "$OUT/sft.jsonl" --model "$MODEL" --out "$OUT/sft" \
    --batch_size 8 --micro_batch_size 4 --max_steps "$SFT_STEPS" --gradient_checkpointing true
"${LAUNCH[@]}" "$OUT/ppo.json" ppo --problems "$OUT/problems.jsonl" --model "$OUT/sft" --out "$OUT/ppo" \
    --batch_size 16 --micro_batch_size 4 --max_new_tokens 256 --max_steps "$PPO_STEPS" --learning_rate 1e-6 \
    --gradient_checkpointing true
"$PY" benchmarks/gpu/phase.py "$OUT/eval.json" cli eval --model "hf:$OUT/ppo" --bench sample --limit "$EVAL_ITEMS" \
    --max-tokens 512 --out "$OUT/eval" --no-cache

"$PY" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print(f"\n{'phase':<6} {'seconds':>8} {'peak allocated GB':>18} {'peak reserved GB':>17}")
for name in ("sft", "ppo", "eval"):
    r = json.loads((out / f"{name}.json").read_text())
    print(f"{name:<6} {r['seconds']:>8} {str(r['peak_allocated_gb']):>18} {str(r['peak_reserved_gb']):>17}")
ppo = [json.loads(l) for l in (out / "ppo" / "metrics.jsonl").read_text().splitlines()]
for m in ppo:
    print(f"ppo step {m['step']}: rollout {m['rollout_seconds']:.1f}s, update {m['update_seconds']:.1f}s, "
          f"reward {m['reward']:.3f}, kl {m['kl']:.4f}, response length {m['response_length']:.0f}")
print(f"outputs in {out}")
PY
