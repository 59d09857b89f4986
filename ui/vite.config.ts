import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// The app is embedded into the Tauri binary from ui/dist (no dev server, no devUrl).
export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep every script external: the CSP forbids inline scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false }
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx']
  }
})
