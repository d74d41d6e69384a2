#!/usr/bin/env bash
# Installs node_modules when missing or when package-lock.json changed since the last install,
# so `npm start` and `npm test` work on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.lock-hash
want=$(sha256sum package-lock.json | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing npm dependencies..." >&2
  # Not `npm ci`: npm 11 reports the lock as out of sync over optional platform bindings
  # (@unrs/resolver-binding-*) it never lists; `npm install` honours the same lock.
  npm install --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
