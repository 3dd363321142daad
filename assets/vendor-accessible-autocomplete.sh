#!/usr/bin/env bash
# Vendor GOV.UK's accessible-autocomplete (https://github.com/alphagov/accessible-autocomplete),
# pinned, the way assets/build-govuk.sh vendors GOV.UK Frontend.
#
# Outputs (committed, so a fresh checkout needs no npm and pages need no CDN):
#   static/accessible-autocomplete/accessible-autocomplete.min.js      (+ .map)  UMD build
#   static/accessible-autocomplete/accessible-autocomplete.min.css     (+ .map)
#   static/accessible-autocomplete/LICENSE.txt                         MIT licence
#   static/accessible-autocomplete/VERSION
#
# The source maps are kept because the built files name them (sourceMappingURL) and
# collectstatic's manifest storage refuses a reference to a missing file.
# static/js/autocomplete.js loads these files only on pages that have a picker.
#
# Requires node and npm with access to the npm registry. Run from anywhere:
#   assets/vendor-accessible-autocomplete.sh
set -euo pipefail

VERSION="3.0.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/static/accessible-autocomplete"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "==> Fetching accessible-autocomplete@$VERSION into $WORK"
cd "$WORK"
npm pack --silent "accessible-autocomplete@$VERSION" >/dev/null
tar xzf "accessible-autocomplete-$VERSION.tgz"
installed="$(node -p "require('$WORK/package/package.json').version")"
if [ "$installed" != "$VERSION" ]; then
  echo "Expected accessible-autocomplete $VERSION, got $installed" >&2
  exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT"
for file in accessible-autocomplete.min.js accessible-autocomplete.min.js.map \
            accessible-autocomplete.min.css accessible-autocomplete.min.css.map; do
  cp "$WORK/package/dist/$file" "$OUT/$file"
done
cp "$WORK/package/LICENSE.txt" "$OUT/LICENSE.txt"
printf '%s\n' "$VERSION" > "$OUT/VERSION"

echo "==> Done: accessible-autocomplete $VERSION"
ls -l "$OUT"
