/// <reference types="vitest/config" />
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// `npm run dev` / `npx vite preview` send /graphql to a local `streamlines graphql serve`
// (STREAMLINES_GRAPHQL_PORT, default 8000), so the page and the API share an origin as when the
// Python server serves the built page.
const api = `http://127.0.0.1:${process.env.STREAMLINES_GRAPHQL_PORT ?? "8000"}`;
const proxy = { "/graphql": { target: api, ws: true } };

// Served by the Python GraphQL server at /dashboard/ from dashboard/dist; everything is bundled
// (no CDN, nothing fetched at run time but the GraphQL API itself).
export default defineConfig({
  base: "/dashboard/",
  plugins: [svelte()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: { proxy },
  preview: { proxy },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
