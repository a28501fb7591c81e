import { fileURLToPath } from 'node:url';

/**
 * How the e2e runs launch Chromium. Measured on Debian 12 without a GPU (README.md, "How the
 * tests run without a GPU"):
 * - `--enable-unsafe-webgpu` lifts the blocklist that otherwise leaves requestAdapter() null;
 *   a core request then gets SwiftShader, a software fallback adapter.
 * - `--use-angle=vulkan --use-webgpu-adapter=opengles` also offer a compatibility adapter on
 *   Dawn's OpenGL ES backend through ANGLE on Vulkan (lavapipe), about 6× faster. The engine's
 *   adapter policy asks for core first, sees a fallback, asks for compatibility and prefers it.
 * - The rest keep a headless run quiet and offline.
 */

/** Debian's chromium (tools/test.sh installs it); Playwright's own browser download is not used. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const QUIET_ARGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-angle=vulkan', '--use-webgpu-adapter=opengles', ...QUIET_ARGS];

/** Where the e2e run saves the screenshots the README shows. */
export const SCREENSHOTS_DIR = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
