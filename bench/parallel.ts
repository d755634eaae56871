/**
 * The app as `main.ts` builds it, as a `deno serve` entry: measures `deno serve --parallel` (N
 * isolates in one process, each with its own app, meter and KV handles on one file) against
 * serve.ts's N processes. Not a production entry: main.ts's drain on SIGTERM (stop accepting,
 * commit what the meter holds) has no hook under `deno serve`.
 *
 * `KV_PATH=… deno serve -A --parallel --port 8000 bench/parallel.ts` (`DENO_JOBS` picks N).
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
