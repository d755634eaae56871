/**
 * The app as `main.ts` builds it, as a `deno serve` entry: measures `deno serve --parallel` (N
 * isolates in one process, each with its own app, meter and KV handles on one file) against
 * serve.ts's N processes. Not a production entry: it skips main.ts's start-up checks and its own
 * drain (`deno serve` stops accepting and answers what is in flight on SIGTERM, then exits 0; the
 * meter is never closed, which loses nothing acknowledged: every 200 waited for its commit).
 *
 * `APP_ENV=test KV_PATH=… DENO_JOBS=2 deno serve -A --parallel --port 8000 bench/parallel.ts`
 */
import { readConfig } from "../fresh.config.ts";
import { buildApp } from "./inproc.ts";

const app = await buildApp(readConfig().kvPath ?? ":memory:");
/** Which isolate answered: `GET /__bench/memory` gives its heap (bench/workers.ts asks each). */
const isolate = crypto.randomUUID();

export default {
  fetch: (req) => {
    if (!req.url.endsWith("/__bench/memory")) return app.fetch(req);
    const { heapUsed, heapTotal, rss } = Deno.memoryUsage();
    return Response.json({ isolate, heapUsed, heapTotal, rss });
  },
} satisfies Deno.ServeDefaultExport;
