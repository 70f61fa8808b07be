#!/bin/sh
# Rebuilds ui.mjs, the one vendored front-end file of the review page, from pinned npm
# packages: Preact (MIT) with its hooks and htm (Apache-2.0). Run by hand when the pins
# change, never by the server or the tests (hospital networks are offline; the page must
# load nothing from a CDN). The output is committed; README.md here records its SHA-256,
# which tests/api/test_review_assets.py checks.
set -eu
PREACT=10.29.8
HTM=3.1.1
ESBUILD=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "preact@$PREACT" "htm@$HTM" "esbuild@$ESBUILD"
cat > entry.js <<'JS'
import { h, render, Fragment } from "preact";
import htm from "htm";
export { h, render, Fragment };
export { useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useReducer } from "preact/hooks";
export const html = htm.bind(h);
JS
npx esbuild entry.js --bundle --format=esm --minify --legal-comments=none --outfile="$here/ui.mjs"
cp node_modules/preact/LICENSE "$here/LICENSE-preact"
cp node_modules/htm/LICENSE "$here/LICENSE-htm"
sha256sum "$here/ui.mjs"
rm -rf "$work"
