import { defineConfig } from "vite";

// A static app for Firebase Hosting: index.html, one bundle, no server of its own.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 1024 },
  server: { fs: { allow: [".."] } },
});
