import { defineConfig } from "vite";

const gateway = process.env.PORTAL_GATEWAY_URL ?? "http://127.0.0.1:8080";

// Built to static files the gateway serves at /portal/* and /admin/* (assets under /portal/).
// React's automatic JSX runtime through esbuild; no framework plugin needed.
export default defineConfig({
  base: "/portal/",
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: { "/portal/api": gateway, "/admin/api": gateway, "/v1": gateway, "/health": gateway },
  },
});
