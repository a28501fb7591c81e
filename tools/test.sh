#!/usr/bin/env bash
# Runs every test: typecheck, unit tests (vitest, WGSL on Dawn in node), the GGUF tests in a real
# llama.cpp (tests-llama/), and the end-to-end tests (Playwright driving Debian's Chromium against the
# built app).
#
# Made for a fresh Debian 12 machine: installs the system packages it needs when they are missing
# (as root, or through sudo), and the npm dependencies when node_modules is missing or older than
# package-lock.json. Needs Node.js >= 20.19 and npm already installed. Runs without a terminal.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# chromium: the e2e browser (it ships SwiftShader); mesa-vulkan-drivers: lavapipe, for Chromium's
# ANGLE-on-Vulkan WebGPU adapter; libegl-dev, libegl-mesa0, libgl1-mesa-dri: EGL and llvmpipe for
# Dawn's OpenGL ES backend in node (dawn.node dlopens the unversioned libEGL.so from libegl-dev).
APT_PACKAGES=(chromium mesa-vulkan-drivers libegl-dev libegl-mesa0 libgl1-mesa-dri)

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    echo "tools/test.sh: need root (or sudo) to run: $*" >&2
    exit 1
  fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed$'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "tools/test.sh: Node.js >= 20.19 and npm are needed and were not found." >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "tools/test.sh: Node.js >= 20.19 is needed (Vite 8); this is $(node --version)." >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install; older than the lock means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

# The GGUF tests load our files in a real llama.cpp (node-llama-cpp's prebuilt CPU binary). It lives in
# tests-llama/ with its own lock so that the studio's npm ci does not grow: optional dependencies (the
# CUDA, Vulkan and other platforms' binaries, several hundred MB) are omitted and only the linux-x64
# CPU build is installed (~83 MB); NODE_LLAMA_CPP_SKIP_DOWNLOAD keeps its postinstall from
# downloading or building anything.
if [ ! -f tests-llama/node_modules/.package-lock.json ] || [ tests-llama/package-lock.json -nt tests-llama/node_modules/.package-lock.json ]; then
  log "npm ci (tests-llama: llama.cpp for the GGUF tests, CPU binary only)"
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tests-llama --omit=optional --no-audit --no-fund
fi

# Dawn's GL backend in node needs a surfaceless EGL display (vitest.config.ts sets it too); the
# Vulkan loader complains without a runtime dir.
export EGL_PLATFORM="${EGL_PLATFORM:-surfaceless}"
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

log "npm test (typecheck, unit, llama.cpp, e2e)"
npm test
