#!/usr/bin/env bash
# Installs node_modules when missing or when package-lock.json changed since the last install,
# so `npm start` and `npm test` work on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.lock-hash
want=$(sha256sum package-lock.json | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing npm dependencies..." >&2
  # `npm ci`: installs exactly the lock and never rewrites it (the lock lists every optional
  # platform binding, such as @unrs/resolver-binding-*, so npm 11 finds it in sync).
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
