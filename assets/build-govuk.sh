#!/usr/bin/env bash
# Rebuild the vendored GOV.UK Frontend assets and the application stylesheet.
#
# Outputs (committed, so a fresh checkout needs no npm):
#   static/css/app.css                      compiled from assets/scss/app.scss
#   static/govuk/govuk-frontend.min.js      GOV.UK Frontend JS (ES module)
#   static/govuk/assets/                    GOV.UK Frontend assets, minus fonts
#                                           and crown images
#   static/govuk/LICENSE.txt                GOV.UK Frontend licence (MIT)
#   static/govuk/VERSION                    GOV.UK Frontend version
#
# The GDS Transport font and the GOV.UK crown are reserved for GOV.UK and are
# deliberately not copied. app.scss uses a system font stack instead.
#
# Requires node and npm with access to the npm registry. Run from anywhere:
#   assets/build-govuk.sh
set -euo pipefail

GOVUK_FRONTEND_VERSION="5.14.0"
SASS_VERSION="1.108.2"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATIC="$ROOT/static"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "==> Fetching govuk-frontend@$GOVUK_FRONTEND_VERSION and sass@$SASS_VERSION into $WORK"
cd "$WORK"
npm pack --silent "govuk-frontend@$GOVUK_FRONTEND_VERSION" >/dev/null
TARBALL="$WORK/govuk-frontend-$GOVUK_FRONTEND_VERSION.tgz"
test -f "$TARBALL"
npm install --no-save --no-audit --no-fund --ignore-scripts --silent \
  "$TARBALL" "sass@$SASS_VERSION"

PKG="$WORK/node_modules/govuk-frontend"
DIST="$PKG/dist/govuk"
installed="$(node -p "require('$PKG/package.json').version")"
if [ "$installed" != "$GOVUK_FRONTEND_VERSION" ]; then
  echo "Expected govuk-frontend $GOVUK_FRONTEND_VERSION, got $installed" >&2
  exit 1
fi

echo "==> Compiling assets/scss/app.scss -> static/css/app.css"
mkdir -p "$STATIC/css"
"$WORK/node_modules/.bin/sass" \
  --load-path="$WORK/node_modules" \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  --silence-deprecation=import \
  "$ROOT/assets/scss/app.scss" "$STATIC/css/app.css"

echo "==> Copying GOV.UK Frontend JS and assets -> static/govuk/"
rm -rf "$STATIC/govuk"
mkdir -p "$STATIC/govuk"
cp "$DIST/govuk-frontend.min.js" "$STATIC/govuk/govuk-frontend.min.js"
cp -R "$DIST/assets" "$STATIC/govuk/assets"

# No fonts: GDS Transport is reserved for GOV.UK.
rm -rf "$STATIC/govuk/assets/fonts"

# No crown images: the favicons, touch icons, mask icon and Open Graph image
# all show the GOV.UK crown. The web app manifests only point at those icons,
# so they go too. (govuk-crest.svg, used by the footer copyright logo, stays.)
for dir in "$STATIC/govuk/assets" "$STATIC/govuk/assets/rebrand"; do
  rm -f "$dir/manifest.json"
  rm -f "$dir"/images/favicon.ico "$dir"/images/favicon.svg \
        "$dir"/images/govuk-icon-*.png "$dir"/images/govuk-icon-mask.svg \
        "$dir"/images/govuk-opengraph-image.png
done

# Licence: the npm package does not ship a LICENSE file (package.json says MIT),
# so use it if present and otherwise write the upstream LICENSE.txt text.
license_src="$(find "$PKG" -maxdepth 1 -iname 'licen[cs]e*' | head -n 1)"
if [ -n "$license_src" ]; then
  cp "$license_src" "$STATIC/govuk/LICENSE.txt"
else
  cat > "$STATIC/govuk/LICENSE.txt" <<'LICENSE'
GOV.UK Frontend (https://github.com/alphagov/govuk-frontend)
Licence text from the upstream repository's LICENSE.txt; the npm package
declares "license": "MIT" but does not include the file.

The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
fi

printf '%s\n' "$GOVUK_FRONTEND_VERSION" > "$STATIC/govuk/VERSION"

echo "==> Checking output"
fail=0
if grep -q "GDS Transport" "$STATIC/css/app.css"; then
  echo "ERROR: static/css/app.css mentions GDS Transport" >&2; fail=1
fi
if ! grep -q "system-ui" "$STATIC/css/app.css"; then
  echo "ERROR: static/css/app.css does not use the system font stack" >&2; fail=1
fi
if [ -n "$(find "$STATIC" -type f \( -iname '*.woff' -o -iname '*.woff2' -o -iname '*.ttf' -o -iname '*.otf' -o -iname '*.eot' \))" ]; then
  echo "ERROR: font files found under static/" >&2; fail=1
fi
[ "$fail" -eq 0 ] || exit 1

echo "==> Done: GOV.UK Frontend $GOVUK_FRONTEND_VERSION, sass $SASS_VERSION"
ls -l "$STATIC/css/app.css" "$STATIC/govuk/govuk-frontend.min.js"
find "$STATIC/govuk/assets" -type f | sed "s|^$ROOT/||" | sort
