#!/usr/bin/env bash
# ensure-deps.sh — installs the system packages and node_modules that `npm run dev` and `npm test` need.
# Idempotent and silent when everything is present; safe on a fresh clone with nothing installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(nginx libnginx-mod-rtmp libnginx-mod-stream openssl postgresql redis-server ffmpeg chromium)

# sbin dirs are not on a normal user's PATH, but nginx lives there.
have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

missing=()
have nginx || missing+=(nginx)
[[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]] || missing+=("ngx_rtmp_module.so")
# RTMPS: nginx's stream module terminates TLS in front of the RTMP port; openssl makes the dev certificate.
[[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]] || missing+=("ngx_stream_module.so")
have openssl || missing+=(openssl)
have ffmpeg || missing+=(ffmpeg)
have ffprobe || missing+=(ffprobe)
have redis-server || missing+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=("postgres server")
have chromium || missing+=(chromium)

if ((${#missing[@]} > 0)); then
  echo "ensure-deps: missing ${missing[*]}" >&2
  if [[ $EUID -ne 0 ]]; then
    echo "ensure-deps: install them with:" >&2
    echo "  sudo apt-get install -y ${PACKAGES[*]}" >&2
    exit 1
  fi
  # The package postinst scripts may start system nginx/redis/postgres services on their default
  # ports; the dev stack and tests use their own ports and data dirs, so those are left alone.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  echo "ensure-deps: installed ${PACKAGES[*]}" >&2
fi

# npm writes node_modules/.package-lock.json on every install: it is newer than package-lock.json
# unless the lock changed since (git pull, branch switch) or nothing was ever installed.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi
