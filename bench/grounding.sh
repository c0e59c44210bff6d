#!/usr/bin/env bash
# Grounding quality and generation speed on the sample brand, in a throwaway BOTKIT_HOME:
# share of questions answered with the right fact + citation, "don't know" on out-of-scope
# questions, and completion tokens per second of `botkit ask` on this machine.
#   bash bench/grounding.sh            (needs `make setup` first)
set -euo pipefail
cd "$(dirname "$0")/.."
export BOTKIT_HOME="$(mktemp -d)"
trap 'rm -rf "$BOTKIT_HOME"' EXIT
.venv/bin/botkit ingest examples/kettlebrook/knowledge >&2
.venv/bin/botkit eval grounding "$@"
