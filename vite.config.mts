import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * The renderer bundle: `npx vite build` -> dist/renderer. `base: './'` keeps asset URLs relative so
 * the same build loads from `app://` (Electron) and from `/` on the web host.
 * In `vite dev`, set STUDIO_DEV_HOST=http://127.0.0.1:<port> to proxy RPC and assets to a
 * running `clip-fields serve`.
 */
const devHost = process.env.STUDIO_DEV_HOST;

export default defineConfig({
  root: r('./renderer'),
  base: './',
  plugins: [react()],
  build: {
    outDir: r('./dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    modulePreload: { polyfill: false },
  },
  server: devHost
    ? {
        proxy: {
          '/rpc': { target: devHost.replace(/^http/, 'ws'), ws: true },
          '/project-asset': { target: devHost },
        },
      }
    : {},
});
