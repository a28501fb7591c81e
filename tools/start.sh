#!/usr/bin/env bash
# Starts GPTQ Studio: the Vite dev server on http://127.0.0.1:5173/.
# Installs the npm dependencies first when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
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
exec ./node_modules/.bin/vite --host 127.0.0.1 --port 5173 --strictPort
