/**
 * A real HTTP receiver on 127.0.0.1 for founders' webhooks: records every request (Standard
 * Webhooks headers and body) and answers from a script, one answer per request, then `fallback`.
 */
export interface Received {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  contentType: string | null;
  body: string;
  path: string;
  /** ms since the epoch, when it arrived */
  at: number;
}

/**
 * An answer: a status, a status with headers, a redirect to a path of this receiver, or hang until
 * the client gives up.
 */
export type Answer =
  | number
  | { status: number; headers: Record<string, string> }
  | { redirect: string }
  | "hang";

export interface Receiver extends AsyncDisposable {
  url: string;
  received: Received[];
  /** Requests to `path` (default `/hook`). */
  hits(path?: string): Received[];
  /** Resolves once `count` requests to `/hook` arrived (rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<Received[]>;
}

/** Listens on a free port of 127.0.0.1; `/hook` answers `script` in order, then `fallback`. */
export function startReceiver(script: Answer[] = [], fallback: Answer = 200): Receiver {
  const received: Received[] = [];
  const queue = [...script];
  const hangs: AbortController[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      received.push({
        id: req.headers.get("webhook-id"),
        timestamp: req.headers.get("webhook-timestamp"),
        signature: req.headers.get("webhook-signature"),
        contentType: req.headers.get("content-type"),
        body: await req.text(),
        path,
        at: Date.now(),
      });
      const answer = path === "/hook" ? (queue.shift() ?? fallback) : 200;
      if (answer === "hang") {
        const abort = new AbortController();
        hangs.push(abort);
        await new Promise((resolve) => abort.signal.addEventListener("abort", resolve));
        return new Response("late", { status: 200 });
      }
      if (typeof answer === "object" && "status" in answer) {
        return new Response("busy", answer);
      }
      if (typeof answer === "object") {
        return new Response(null, { status: 302, headers: { location: answer.redirect } });
      }
      return new Response(answer < 300 ? "ok" : "nope", { status: answer });
    },
  );
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const hits = (path = "/hook") => received.filter((r) => r.path === path);
  return {
    url,
    received,
    hits,
    async waitFor(count, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (hits().length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} requests, got ${hits().length}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return hits();
    },
    async [Symbol.asyncDispose]() {
      for (const h of hangs) h.abort();
      await server.shutdown();
    },
  };
}
