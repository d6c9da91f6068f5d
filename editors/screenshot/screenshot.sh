#!/usr/bin/env bash
# Makes kibray.png for editors/README.md: parts of scenarios/kibray.kload highlighted by the
# VS Code grammar with Dark+ colours (render.js), photographed by headless Chromium.
# Needs chromium (apt-get install -y chromium) and editors/node_modules (bash editors/test.sh).
#   bash editors/screenshot/screenshot.sh [FILE RANGES OUT.png]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
file="${1:-$here/../../scenarios/kibray.kload}"
ranges="${2:-5-46,83-95,264-276,286-295}"
out="${3:-$here/kibray.png}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node "$here/render.js" "$file" "$ranges" > "$work/page.html"
rows="$(grep -o '<div' "$work/page.html" | wc -l)"
height=$(( rows * 19 + 28 ))
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --hide-scrollbars --force-device-scale-factor=1 --window-size="820,$height" \
  --user-data-dir="$work/profile" --screenshot="$out" "file://$work/page.html" 2>/dev/null
echo "$out: $(stat -c %s "$out") bytes, 820x$height"
