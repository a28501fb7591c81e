#!/usr/bin/env bash
# Starts GPTQ Studio on http://127.0.0.1:5173/: a production build (built first when the sources are
# newer than dist/), served by `vite preview`. React's development build, which the dev server
# (`npm run dev`) serves, renders the charts several times slower and froze the page for seconds
# during runs. Installs the npm dependencies first when node_modules is missing or older than
# package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

if [ ! -f dist/index.html ] || [ -n "$(find src shaders public index.html vite.config.ts package-lock.json -newer dist/index.html -print -quit)" ]; then
  echo "== vite build (the sources are newer than dist/)"
  ./node_modules/.bin/vite build
fi

URL="http://127.0.0.1:5173/"
cat <<MSG

GPTQ Studio: ${URL}
  layer check (GPU engine against the f64 reference): ${URL}?check=layer

Open it in Chrome or Edge 113 or later. Where WebGPU offers no adapter (Linux, a blocklisted GPU,
a machine without a GPU), start the browser with:
  chromium --enable-unsafe-webgpu ${URL}
and without a GPU, for the faster software adapter (ANGLE on Vulkan lavapipe):
  chromium --enable-unsafe-webgpu --use-angle=vulkan --use-webgpu-adapter=opengles ${URL}

MSG
exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port 5173 --strictPort
