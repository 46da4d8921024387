#!/usr/bin/env bash
# Re-fetches the pinned front-end packages from the npm registry into web/static/vendor/.
# Not needed for setup (the files are committed); run it to verify or to upgrade a pin.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
(cd "$T" && echo '{"private":true}' > package.json &&
 npm install --no-audit --no-fund --ignore-scripts leaflet@1.9.3 leaflet-draw@1.0.4 >/dev/null)
N=$T/node_modules; V=web/static/vendor
mkdir -p $V/leaflet/1.9.3 $V/leaflet-draw/1.0.4
cp -r $N/leaflet/dist/{leaflet.js,leaflet.css,images} $N/leaflet/LICENSE $V/leaflet/1.9.3/
cp -r $N/leaflet-draw/dist/{leaflet.draw.js,leaflet.draw.css,images} $V/leaflet-draw/1.0.4/
sed -i '/sourceMappingURL/d' $V/leaflet/1.9.3/leaflet.js $V/leaflet-draw/1.0.4/leaflet.draw.js
echo "vendored assets refreshed in $V"
