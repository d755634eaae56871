/**
 * Static assets: the island manifest the pages link to, and the `/static/*` handler with cache
 * headers. Content-hashed files (island modules, chunks, `styles.css?v=<hash>`) are immutable for
 * a year; everything else is revalidated by ETag. Text is gzipped once and kept in memory.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../fresh.config.ts";
import type { HonoEnv } from "../http/route.ts";
import { buildIslands, contentHash, type IslandManifest, PROJECT_ROOT } from "./build.ts";

const STATIC_DIR = new URL("static/", PROJECT_ROOT);

let manifest: Promise<IslandManifest> | null = null;

/**
 * The island manifest, read once per process. Development bundles afresh on first use (the dev
 * server restarts on every change, so islands are never stale); tests bundle only when nothing
 * is built yet; production requires `deno task build` to have run.
 */
export function islandManifest(appEnv: AppEnv): Promise<IslandManifest> {
  manifest ??= loadManifest(appEnv).catch((error) => {
    manifest = null; // let the next page retry instead of caching the failure
    throw error;
  });
  return manifest;
}

async function loadManifest(appEnv: AppEnv): Promise<IslandManifest> {
  if (appEnv === "development") return await buildIslands();
  try {
    const text = await Deno.readTextFile(new URL("islands/manifest.json", STATIC_DIR));
    return JSON.parse(text) as IslandManifest;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    if (appEnv === "production") {
      throw new Error("The islands are not built: run `deno task build` before starting.");
    }
    return await buildIslands();
  }
}

interface StaticFile {
  body: Uint8Array;
  gzip: Uint8Array | null;
  etag: string;
  hash: string;
  type: string;
}

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  webmanifest: "application/manifest+json",
};

const files = new Map<string, Promise<StaticFile | null>>();

/** Reads (once) a file under `static/`; `null` when absent. */
function staticFile(path: string): Promise<StaticFile | null> {
  let file = files.get(path);
  if (!file) {
    file = readStatic(path);
    files.set(path, file);
    // Only hashed names can never change; others may (a rebuild), so forget misses (and failed
    // reads) quickly. Both branches are handled: an unhandled rejection would end the process.
    file.then((f) => f === null && files.delete(path), () => files.delete(path));
  }
  return file;
}

async function readStatic(path: string): Promise<StaticFile | null> {
  let body: Uint8Array;
  try {
    body = await Deno.readFile(new URL(path, STATIC_DIR));
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory ||
      error instanceof Deno.errors.NotADirectory
    ) return null;
    throw error;
  }
  const ext = path.slice(path.lastIndexOf(".") + 1);
  const type = TYPES[ext] ?? "application/octet-stream";
  const hash = await contentHash(body);
  const compressible = type.startsWith("text/") || type.includes("json") || type.includes("svg");
  const gzip = compressible && body.length > 1024 ? await gzipBytes(body) : null;
  return { body, gzip, etag: `"${hash}"`, hash, type };
}

async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `/static/styles.css?v=<content hash>`: the stylesheet URL pages link to. */
export async function assetUrl(path: string): Promise<string> {
  const file = await staticFile(path);
  return file ? `/static/${path}?v=${file.hash}` : `/static/${path}`;
}

/**
 * Paths we serve: no dot-files, no `..`, nothing outside `static/`, and no `%` — Hono has already
 * decoded every valid escape of an unreserved character, so one left is an encoded `/`, `?`, `#`
 * or `%`, or invalid, and names no file of ours. Short enough for any file system.
 */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}\/){0,7}[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;
/** Names that carry their content hash: `KeyReveal.0a1b2c3d4e5f.js`, `chunk-ABCD1234.js`. */
const HASHED_NAME = /(?:\.[0-9a-f]{12}\.js|\/chunk-[A-Z0-9]{8}\.js)$/;

/** Serves `static/` under `/static/*` with ETag, immutable caching of hashed files, and gzip. */
export function serveStatic(): MiddlewareHandler<HonoEnv> {
  return async function serveStatic(c, next) {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return await next();
    // `c.req.path` is decoded once, leniently (what cannot be decoded stays as written); decoding
    // again here would turn `%252e` into `%2e` and throw on `%ff` (a 500 for a stranger's typo).
    const path = c.req.path.slice("/static/".length);
    if (!SAFE_PATH.test(path) || path.split("/").includes("..")) return await next();
    const file = await staticFile(path);
    if (!file) return await next();

    const immutable = HASHED_NAME.test(`/${path}`) || c.req.query("v") === file.hash;
    const gzip = file.gzip !== null && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    // Each encoding is its own representation, so it gets its own strong ETag (RFC 9110 8.8.3).
    const etag = gzip ? `${file.etag.slice(0, -1)}-gzip"` : file.etag;
    const headers: Record<string, string> = {
      "content-type": file.type,
      etag,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "public, no-cache",
      vary: "Accept-Encoding",
      "x-content-type-options": "nosniff",
    };
    const ifNoneMatch = c.req.header("if-none-match") ?? "";
    if (ifNoneMatch.split(/\s*,\s*/).includes(etag)) {
      return new Response(null, { status: 304, headers });
    }
    if (gzip) headers["content-encoding"] = "gzip";
    const body = gzip ? file.gzip! : file.body;
    headers["content-length"] = String(body.length);
    return new Response(c.req.method === "HEAD" ? null : body as BodyInit, { headers });
  };
}
