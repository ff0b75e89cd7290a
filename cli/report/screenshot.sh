#!/bin/sh
# Render the demonstration PPA report in headless Chromium (Debian's `chromium` package:
# apt-get install -y chromium) and save a screenshot. Not part of the jest suite.
# Usage: cli/report/screenshot.sh [OUT_DIR] [PRESET]
set -eu
out="${1:-${TMPDIR:-/tmp}/tessera-report}"
preset="${2:-hetero-6x6-5nm}"
mkdir -p "$out"
cd "$(dirname "$0")/../.."
node --import tsx cli/report/sample-main.ts "$out/report.html" "$preset"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --window-size=1280,2000 --screenshot="$out/report.png" "file://$(cd "$out" && pwd)/report.html"
echo "screenshot: $out/report.png"
