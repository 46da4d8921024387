#!/usr/bin/env bash
# Re-fetches the pinned front-end packages from the npm registry into web/static/vendor/.
# Not needed for setup (the files are committed); run it to verify or to upgrade a pin.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
(cd "$T" && echo '{"private":true}' > package.json &&
 npm install --no-audit --no-fund --ignore-scripts leaflet@1.9.3 leaflet-draw@1.0.4 jquery@3.7.1 \
   @fortawesome/fontawesome-free@6.2.0 leaflet.markercluster@1.1.0 leaflet.awesome-markers@2.0.5 >/dev/null)
N=$T/node_modules; V=web/static/vendor
mkdir -p $V/leaflet/1.9.3 $V/leaflet-draw/1.0.4
cp -r $N/leaflet/dist/{leaflet.js,leaflet.css,images} $N/leaflet/LICENSE $V/leaflet/1.9.3/
cp -r $N/leaflet-draw/dist/{leaflet.draw.js,leaflet.draw.css,images} $V/leaflet-draw/1.0.4/
mkdir -p $V/jquery/3.7.1 $V/fontawesome-free/6.2.0/css $V/leaflet.markercluster/1.1.0 $V/leaflet.awesome-markers/2.0.5 $V/folium
cp $N/jquery/dist/jquery.min.js $N/jquery/LICENSE.txt $V/jquery/3.7.1/
cp $N/@fortawesome/fontawesome-free/css/all.min.css $V/fontawesome-free/6.2.0/css/
cp -r $N/@fortawesome/fontawesome-free/webfonts $N/@fortawesome/fontawesome-free/LICENSE.txt $V/fontawesome-free/6.2.0/
cp $N/leaflet.markercluster/dist/{leaflet.markercluster.js,MarkerCluster.css,MarkerCluster.Default.css} $N/leaflet.markercluster/MIT-LICENCE.txt $V/leaflet.markercluster/1.1.0/
cp -r $N/leaflet.awesome-markers/dist/{leaflet.awesome-markers.js,leaflet.awesome-markers.css,images} $N/leaflet.awesome-markers/LICENSE $V/leaflet.awesome-markers/2.0.5/
python3 -c "print('\n'.join('.fa-rotate-%d{transform:rotate(%ddeg);}'%(i,i) for i in range(361)))" > $V/folium/leaflet.awesome.rotate.min.css
sed -i '/sourceMappingURL/d' $V/leaflet/1.9.3/leaflet.js $V/leaflet-draw/1.0.4/leaflet.draw.js $V/leaflet.markercluster/1.1.0/leaflet.markercluster.js $V/jquery/3.7.1/jquery.min.js
echo "vendored assets refreshed in $V"
