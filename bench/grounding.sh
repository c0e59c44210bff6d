#!/usr/bin/env bash
# Grounded answers on a knowledge base, in a throwaway BOTKIT_HOME: right fact + citation, declined
# questions, out-of-scope questions declined, each failure kind of issue 11, seconds per answer p50/p95.
#   bash bench/grounding.sh [kettlebrook|helpdesk|all|heldout|heldout-clinic|heldout-gym|heldout-carhire|heldout-vets|heldout-hotels|heldout-isp|heldout-storage|heldout-furniture|heldout-waste] [--json]   (needs `make setup` first)
# The samples run through `botkit eval grounding --kb`; a held-out set (bench/heldout*: never tune on them)
# is ingested and asked the way a user measures their own documents, with no brand profile.
set -euo pipefail
cd "$(dirname "$0")/.."
kb=kettlebrook
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then kb="$1"; shift; fi
export BOTKIT_HOME="$(mktemp -d)"
trap 'rm -rf "$BOTKIT_HOME"' EXIT
if [ "${kb#heldout}" != "$kb" ] && [ -d "bench/$kb" ]; then
  .venv/bin/botkit ingest "bench/$kb/knowledge" >&2
  .venv/bin/botkit eval grounding --questions "bench/$kb/eval/questions.jsonl" \
    --out-of-scope "bench/$kb/eval/out_of_scope.jsonl" "$@"
else
  .venv/bin/botkit eval grounding --kb "$kb" "$@"
fi
