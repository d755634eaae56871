/** What bench/bare.ts and bench/floor.ts share: the usage answer they send and how they listen. */

/** A usage answer of dream-api's shape and size. */
export const USAGE_BODY = {
  success: true,
  usage: { count: 1, limit: null, remaining: null },
  plan: "free",
  planSource: "default",
  period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
};

/** Serves `handler` on the port given as first argument (0: any) and prints `listening <port>`. */
export function listen(handler: (req: Request) => Response | Promise<Response>): void {
  Deno.serve({
    port: Number(Deno.args[0] ?? 0),
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, handler);
}
