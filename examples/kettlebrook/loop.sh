#!/usr/bin/env bash
# The feedback loop on the sample brand, measured end to end on a CPU (bench/loop.py): generate
# candidate pairs for chat questions and copy briefs -> the simulated annotator ranks them -> train a
# reward model and DPO -> judge the trained version against the base on 100 held-out prompts with
# the annotator's preferences -> promote it -> chat with it. Prints the figures at the end.
#
#   make loop                              # or: bash examples/kettlebrook/loop.sh (from the repo root)
#   PROFILE=gpu make loop                  # the GPU recipe: the same commands, the gpu profile
#   bash examples/kettlebrook/loop.sh --dpo-steps 80 --noise 0.1   # any flag of bench/loop.py --help
#
# It runs in a fresh BOTKIT_HOME (a new temporary one unless you set BOTKIT_HOME), so it never
# changes the active model of your own home; the figures are kept in $BOTKIT_HOME/loop.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

BOTKIT=${BOTKIT:-.venv/bin/botkit}
PY=${PY:-.venv/bin/python}
PROFILE=${PROFILE:-cpu}
export BOTKIT_HOME=${BOTKIT_HOME:-$(mktemp -d "${TMPDIR:-/tmp}/botkit-loop.XXXXXX")}

echo "BOTKIT_HOME=$BOTKIT_HOME (export it to open the result in \`botkit app\`)" >&2
"$PY" bench/loop.py --home "$BOTKIT_HOME" --profile "$PROFILE" "$@"

# The promotion gate wants people to have preferred loop-dpo to the active model: rank the pairs the
# benchmark queued on the app's Rank page (`botkit app`), then promote without --force.
if ! "$BOTKIT" models promote loop-dpo --json > /dev/null 2>&1; then
  echo "The promotion gate blocked loop-dpo (nobody has ranked it against the active model); FOR THIS" \
       "DEMO ONLY the loop promotes with --force, which is recorded with the promotion as forced." >&2
  "$BOTKIT" models promote loop-dpo --force --json > /dev/null
fi
echo "chat now answers with: $("$BOTKIT" ask "How much does the Zephyr 3000 cost?" --json \
  | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["model"])')"
