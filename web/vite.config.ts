// Vite build of the trading screen. `npm run build` writes dist/, which spotex-gateway serves at
// `/` (--web-root). `npm run dev` serves the sources on 127.0.0.1:5173 and forwards the API and
// the WebSockets to a running stack (SPOTEX_BASE_URL, default http://127.0.0.1:8080).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const backend = process.env.SPOTEX_BASE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    // The page's Content-Security-Policy allows scripts from 'self' only: no inline script.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': backend,
      '/stream': { target: backend, ws: true },
      '/ws': { target: backend, ws: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
