#!/usr/bin/env bash
# Packs xfed as npm would publish it, lints the package (publint, are-the-types-wrong), installs the
# tarball into an empty directory with production dependencies only, and runs the installed CLI:
# --version, validate, schema, the smoke suite in process mode, and a short watch of it. Prints the tarball's contents
# by folder, its size and the installed size. Leaves the tarball in $XFED_PACK_DIR when set
# (the image build reuses it), and removes everything else it made.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/xfed-package-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n-- %s\n' "$*"; }

step "npm pack (the prepare script builds dist/)"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
printf 'tarball: %s, %s KiB, %s files\n' "$(basename "$tarball")" "$(( $(stat -c %s "$tarball") / 1024 ))" "$(tar tzf "$tarball" | grep -vc '/$')"
tar tzf "$tarball" | awk -F/ '{ top = ($2 == "dist" || $2 == "docker") ? $2 "/" $3 : $2; n[top]++ } END { for (k in n) printf "  %-28s %d\n", k, n[k] }' | sort

step "package lint"
npx --no-install publint run --strict .
npx --no-install attw "$tarball" --profile esm-only

step "install into an empty directory (production dependencies only)"
mkdir "$work/consumer"
(
  cd "$work/consumer"
  npm init -y >/dev/null
  start=$(date +%s)
  npm install --omit=dev --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
  printf 'installed in %s s: %s packages, %s\n' "$(( $(date +%s) - start ))" "$(ls node_modules | wc -l)" "$(du -sh node_modules | cut -f1)"

  step "the installed CLI"
  npx --no-install xfed --version
  npx --no-install xfed validate node_modules/xfed/scenarios/*.yaml --vars node_modules/xfed/scenarios/example-lab/vars.yaml
  npx --no-install xfed schema | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(`schema: ${Object.keys(j.properties??{}).length} top-level keys, ${s.length} bytes`)})'
  node --input-type=module -e "const m = await import('xfed'); const j = await import('xfed/jest'); const s = await import('xfed/sim'); console.log('import: xfed', Object.keys(m).length, 'exports; xfed/jest', Object.keys(j).join(','), '; xfed/sim', Object.keys(s).length)"
  npx --no-install xfed run node_modules/xfed/scenarios/smoke.yaml --runtime process --reporter plain --out results
  test -s results/junit.xml && test -s results/report.html && test -s results/results.json
  # The watch's pieces (prom-client, the timeline page) come with the package too.
  npx --no-install xfed watch node_modules/xfed/scenarios/smoke.yaml --runtime process --interval 1s --duration 4s --out watch
  test -s watch/watch.ndjson && test -s watch/timeline.html
  npx --no-install xfed timeline watch --out watch/again.html >/dev/null
)
if [ -n "${XFED_PACK_DIR:-}" ]; then mkdir -p "$XFED_PACK_DIR" && cp "$tarball" "$XFED_PACK_DIR/"; fi
echo "package check: ok"
