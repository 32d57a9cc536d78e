#!/usr/bin/env bash
# Refreshes the vendored uPlot (the dashboard's chart library) from the npm registry: the released, minified build and
# its stylesheet and licence, exactly as published. The page is served by the program, offline, so these files live in
# the repository and are compiled into AmbientMqtt.Dashboard.dll. Usage: ./refresh-uplot.sh [version] (default: latest).
set -euo pipefail
version="${1:-latest}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$version" > /dev/null && tar xzf uplot-*.tgz)
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" "$work/package/LICENSE" "$here/uplot/"
grep -o 'uPlot (v[0-9.]*)' "$here/uplot/uPlot.iife.min.js" | head -1
