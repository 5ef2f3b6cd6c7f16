#!/usr/bin/env bash
# dev.sh — `npm run dev`: installs what is missing, then runs the foreground dev stack (scripts/dev.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
exec node --import tsx scripts/dev.ts "$@"
