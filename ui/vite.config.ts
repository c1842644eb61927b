import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built into dist/ui, which the daemon serves at `/` (daemon/http/static-ui.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  server: {
    // `npx vite --config ui/vite.config.ts` against a daemon on :3030 (the default port).
    proxy: { '/socket.io': { target: 'http://127.0.0.1:3030', ws: true } },
  },
});
