/** The ceiling of `deno task bench`: bare `Deno.serve` answering a constant JSON body of our size. */
const body = JSON.stringify({
  success: true,
  usage: { count: 1, limit: null, remaining: null },
  plan: "free",
  planSource: "default",
  period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
});

Deno.serve({
  port: Number(Deno.args[0] ?? 0),
  onListen: ({ port }) => console.log(`listening ${port}`),
}, () => new Response(body, { headers: { "content-type": "application/json" } }));
