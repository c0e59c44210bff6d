#!/usr/bin/env bash
# RL with verifiable rewards on the sample brand, measured: a warm start (SFT, LoRA, on the serving chats
# with phrasing targets: the fact's source sentence rephrased, kept only when the grounding check passes it
# and the copy test does not count it a copy), then GRPO from its adapter against the grounding check.
# Trains on half the eval questions plus the sample's product and feedback questions (none near a held-out
# one), then answers the held-out half with the base, the warm start ($OUT-warm) and the version through
# the same engine and bot pipeline, in one process (bench/rl_phrasing.py).
#
#   bash examples/kettlebrook/rl.sh              # from the repo root; the measured run's settings
#   STEPS=10 WARM_EPOCHS=3 bash examples/kettlebrook/rl.sh --lora_r 16   # more flags go to `botkit train rl`
#   WARM_EPOCHS=0 bash examples/kettlebrook/rl.sh                        # GRPO from the base, as before
#   SAMPLES=16 WARM_EPOCHS=3 STEPS=1 bash examples/kettlebrook/rl.sh      # rejection sampling (expert iteration):
#       SFT on the targets ($OUT-warm1), 16 drafts of each training chat sampled from it, the ones the grounding
#       reward pays in full kept ($OUT-warm1/kept_drafts.jsonl), SFT continued on both ($OUT-warm), then GRPO
#
# "model-phrased" counts answers in the model's own checked words, copies of a source sentence apart.
# A checkpoint is saved every 2 steps: a run cut short can still be measured from its last one
# (bench/rl_phrasing.py --model CHECKPOINT_DIR --questions THE_HELD_OUT_QUESTIONS).
# It runs in a fresh BOTKIT_HOME (a new temporary one unless you set BOTKIT_HOME); the figures are
# kept in $BOTKIT_HOME/rl_phrasing.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

BOTKIT=${BOTKIT:-.venv/bin/botkit}
PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-2}
WARM_EPOCHS=${WARM_EPOCHS:-1}  # the SFT warm start on phrasing targets (version $OUT-warm); 0: GRPO from the base
WARM_LR=${WARM_LR:-1e-3}
SAMPLES=${SAMPLES:-0}  # rejection sampling: drafts sampled per training chat for the warm start (0: targets only)
OUT=${OUT:-kb-grounded}
export BOTKIT_HOME=${BOTKIT_HOME:-$(mktemp -d "${TMPDIR:-/tmp}/botkit-rl.XXXXXX")}
export BOTKIT_ENGINE=transformers  # the engine training samples with, for the base and the version alike
K=examples/kettlebrook

echo "BOTKIT_HOME=$BOTKIT_HOME" >&2
"$BOTKIT" ingest "$K/knowledge" --json > /dev/null
"$BOTKIT" train rl --reward grounding --data "$K/eval/questions.jsonl" --test_fraction 0.5 \
  --train_questions "$K/knowledge/product-questions.jsonl" "$K/feedback/demo_prompts.jsonl" \
                    "$K/feedback/sample_pairs.jsonl" \
  --num_generations 8 --per_device_train_batch_size 8 --temperature 0.8 --max_completion_length 32 \
  --learning-rate 1e-3 --beta 0 --max-steps "$STEPS" --save_steps 2 --out "$OUT" \
  --warm_start_epochs "$WARM_EPOCHS" --warm_start_learning_rate "$WARM_LR" --warm_start_samples "$SAMPLES" \
  --json "$@" > "$BOTKIT_HOME/rl_train.json"
"$PY" bench/rl_phrasing.py --version "$OUT" --json > "$BOTKIT_HOME/rl_phrasing.json"
"$PY" - "$BOTKIT_HOME/rl_phrasing.json" <<'PY'
import json, sys
for name, r in json.load(open(sys.argv[1])).items():
    print(f"{name} ({r['model']}): model-phrased {r['model_phrased']}/{r['questions']}, right fact + citation "
          f"{r['right']}/{r['questions']}, copied {r['copied']}, quoted {r['quoted']}")
PY
