import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// WGSL lives in /shaders and is imported as text (`shaders/<name>.wgsl?raw`); Vite handles `?raw`
// natively in the page and in the worker bundle, so no plugin is needed for it.
export default defineConfig({
  plugins: [react()],
  worker: {
    // The worker is a module worker (`new Worker(url, { type: 'module' })`), so its bundle must be ES.
    format: 'es',
  },
  build: {
    target: 'es2022',
    sourcemap: true,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
});
