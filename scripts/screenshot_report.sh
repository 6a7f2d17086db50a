#!/usr/bin/env bash
# Render a report.html in headless Chromium to a PNG, so a person can look at it.
#
#   scripts/screenshot_report.sh REPORT.html [OUT.png] [WIDTH] [HEIGHT]
#
# Defaults: OUT.png next to the report (report.png), window 1400 x 5000 px.  Needs Debian's
# chromium package (apt-get install -y chromium); the report is self-contained, so Chromium
# runs without network access.
set -euo pipefail
if [[ $# -lt 1 ]]; then
    echo "usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]" >&2
    exit 2
fi
report=$(realpath "$1")
out=${2:-"${report%.html}.png"}
width=${3:-1400}
height=${4:-5000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
    echo "chromium not found: apt-get install -y chromium" >&2
    exit 1
fi
out=$(realpath -m "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --window-size="${width},${height}" --screenshot="$out" "file://${report}" >/dev/null 2>&1
echo "$out"
