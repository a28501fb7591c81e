// Fails with what to do when this folder's llama.cpp (node-llama-cpp) is not installed.
import { existsSync } from 'node:fs';

const here = new URL('.', import.meta.url);
if (!existsSync(new URL('node_modules/node-llama-cpp/package.json', here)) || !existsSync(new URL('node_modules/@node-llama-cpp/linux-x64/package.json', here))) {
  console.error('tests-llama is not installed (the real llama.cpp the GGUF tests load). Install it with:\n' +
    '  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tests-llama --omit=optional --no-audit --no-fund\n' +
    '(tools/test.sh does this; it fetches node-llama-cpp and its CPU binary for linux-x64, about 83 MB.)');
  process.exit(1);
}
