#!/usr/bin/env bash
# dev.sh — `npm run dev`: installs what is missing, raises the open-files limit, then runs the
# foreground dev stack (scripts/dev.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh

# Every WebSocket viewer costs an nginx edge worker two descriptors (client + upstream) and the app
# one. The limit is per process: the renderer sizes each edge worker (one per CPU, at least 2) for
# 32768 connections, which needs 33,792 descriptors. Anyone may raise the soft limit up to the
# hard one; only CAP_SYS_RESOURCE (root outside most containers) can raise the hard limit, and
# each worker is then sized to what it got (scripts/lib/nginx.ts edgeCapacity).
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
  workers=$(nproc 2>/dev/null || echo 1)
  [ "$workers" -ge 2 ] || workers=2
  per_worker=$(( (hard - 1024) / 2 ))
  echo "dev: open files are capped at $hard per process by the hard limit (raising it needs" \
    "CAP_SYS_RESOURCE), so each of nginx's $workers edge workers is sized for about $per_worker" \
    "WebSocket viewers ($(( per_worker * workers )) in all) instead of 16,384 (32768 connections)." \
    "To lift it, raise the hard limit ('ulimit -Hn $want' as root, or a 'nofile' line in" \
    "/etc/security/limits.conf and a new login) and start again." >&2
fi

exec node --import tsx scripts/dev.ts "$@"
