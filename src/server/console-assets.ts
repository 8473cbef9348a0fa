/**
 * Serves the web console built by `npm run build:web` (web/dist) at `/`, its hashed assets, the
 * bundled GraphiQL (at GET /graphql for browsers, no CDN) and the SDL at /schema.graphql. The
 * file list is read once at start, so only files the build produced can ever be served (no path
 * is ever joined from a request). Every page gets a strict Content-Security-Policy.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import type Koa from "koa";

/** The console: scripts, styles, fonts and connections to this origin only; images also as data: (Pico's icons). */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * GraphiQL's editor (Monaco) inserts <style> elements and its stylesheet embeds fonts as data:
 * URLs, so this page alone allows inline styles and data: fonts. Scripts stay 'self' only.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".graphql": "text/plain; charset=utf-8",
};

interface Asset {
  file: string;
  type: string;
  /** Hashed file names never change content: cache them for a year. */
  immutable: boolean;
  csp: string | null;
}

const ROOT = join(import.meta.dirname, "..", "..");
export const CONSOLE_DIST = join(ROOT, "web", "dist");

/** Maps URL paths to the built files (empty when the console is not built). */
export function loadConsoleAssets(dist = CONSOLE_DIST): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const sdl = join(ROOT, "schema.graphql");
  if (existsSync(sdl)) assets.set("/schema.graphql", { file: sdl, type: TYPES[".graphql"]!, immutable: false, csp: null });
  if (!existsSync(join(dist, "index.html"))) return assets;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const url = "/" + relative(dist, file).split(sep).join("/");
        const type = TYPES[extname(name)] ?? "application/octet-stream";
        assets.set(url, { file, type, immutable: url.startsWith("/assets/"), csp: type.startsWith("text/html") ? CONSOLE_CSP : null });
      }
    }
  };
  walk(dist);
  const index = assets.get("/index.html")!;
  assets.set("/", index);
  const graphiql = assets.get("/graphiql.html");
  if (graphiql) graphiql.csp = GRAPHIQL_CSP;
  return assets;
}

/** Koa middleware: GET/HEAD of a built file, and GraphiQL for a browser's GET /graphql. */
export function serveConsole(assets: Map<string, Asset>, options: { graphiql: boolean }): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return next();
    let asset = assets.get(ctx.path);
    // A browser opening /graphql gets the bundled GraphiQL; API clients (JSON accept, or ?query=) reach yoga.
    if (ctx.path === "/graphql") {
      const wantsPage = options.graphiql && (ctx.get("accept") || "").includes("text/html") && !ctx.query.query;
      asset = wantsPage ? assets.get("/graphiql.html") : undefined;
    }
    if (!asset) return next();
    ctx.type = asset.type;
    ctx.set("x-content-type-options", "nosniff");
    ctx.set("referrer-policy", "no-referrer");
    ctx.set("cache-control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (asset.csp) ctx.set("content-security-policy", asset.csp);
    ctx.body = readFileSync(asset.file);
  };
}
