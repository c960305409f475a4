import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const fromHere = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// The dashboard is served by the Pommel server: index.html at `/`, assets under /static/app/.
export default defineConfig({
  base: "/static/app/",
  resolve: {
    alias: {
      // The GraphQL documents the dashboard sends, kept with the schema (imported with ?raw).
      "@operations": fromHere("../schema/operations/dashboard"),
    },
  },
  build: {
    outDir: fromHere("../backend/pommel/web/static/app"),
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    fs: { allow: [".."] },
    // `npm run dev` next to `pommel serve` (port 8000): the API goes to the server.
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
