#!/usr/bin/env bash
# dev.sh — `npm run dev`: installs what is missing, raises the open-files limit, then runs the
# foreground dev stack (scripts/dev.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh

# Every WebSocket viewer costs nginx two descriptors (client + upstream) and the app one; the
# renderer sizes nginx's worker for 32768 connections (~16,000 viewers), which needs 33,792.
# Anyone may raise the soft limit up to the hard one; only CAP_SYS_RESOURCE (root outside most
# containers) can raise the hard limit, and nginx is then sized to what it got.
want=33792
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  ulimit -Hn "$want" 2>/dev/null || true
  hard=$(ulimit -Hn)
fi
if [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ]; then
  ulimit -Sn "$want"
else
  ulimit -Sn "$hard"
  viewers=$(( (hard - 1024) / 2 ))
  echo "dev: open files are capped at $hard by the hard limit (raising it needs root), so nginx" \
    "is sized for about $viewers WebSocket viewers instead of ~16,000. To lift it, raise the" \
    "hard limit ('ulimit -Hn $want' as root, or a 'nofile' line in /etc/security/limits.conf" \
    "and a new login) and start again." >&2
fi

exec node --import tsx scripts/dev.ts "$@"
