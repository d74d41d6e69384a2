#!/usr/bin/env bash
# Compiles the services and the CLIs to JavaScript (tsconfig.build.json), so production runs
# `node dist/<service>/main.js` without tsx. BUILD_OUT_DIR overrides the output folder (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BUILD_OUT_DIR:-dist}
rm -rf "$out"
npx tsc -p tsconfig.build.json --outDir "$out"
# The default pipeline config (config/common-config.ts resolves it beside the compiled config module).
mkdir -p "$out/config/pipelines"
cp config/pipelines/*.json "$out/config/pipelines/"
# The search page's script, bundled once here instead of by the API on its first request.
npx tsx scripts/build-ui.ts "$out/api/ui/client"
# core/version.ts reads the version from the package.json above the compiled modules.
cp package.json "$out/package.json"
echo "built into $out" >&2
