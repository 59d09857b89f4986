#!/usr/bin/env bash
# Regenerates the app icon set from a 1024 px RGBA source drawn with ImageMagick.
# Usage: icons/make-icons.sh   (needs ImageMagick `convert` and `npm ci` in ui/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/convert -size 1024x1024 xc:none \
  -fill '#1f4e79' -draw 'roundrectangle 64,64 960,960 180,180' \
  -fill '#ff7a59' -draw 'circle 380,512 380,330' \
  -fill '#ffffff' -draw 'circle 644,512 644,360' \
  -fill '#1f4e79' -draw 'circle 644,512 644,420' \
  -fill '#ffffff' -stroke '#ffffff' -strokewidth 40 -draw 'line 450,512 580,512' \
  "PNG32:$here/icon-source.png"
(cd "$here/../ui" && npx tauri icon "$here/icon-source.png" -o "$here")
rm -rf "$here/android" "$here/ios"
