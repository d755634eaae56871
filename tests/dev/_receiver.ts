/** A real HTTP webhook receiver for tests of the local Stripe: records each request it gets. */
export interface ReceivedRequest {
  body: string;
  signature: string | null;
  contentType: string | null;
}

export interface Receiver extends AsyncDisposable {
  /** The URL to register as a webhook endpoint. */
  url: string;
  received: ReceivedRequest[];
  /** The `type` of each event received, in order. */
  types(): string[];
}

/** Listens on a free port and answers every request with `status` (default 200). */
export function startReceiver(status = 200): Receiver {
  const received: ReceivedRequest[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    received.push({
      body: await req.text(),
      signature: req.headers.get("stripe-signature"),
      contentType: req.headers.get("content-type"),
    });
    return new Response(status < 300 ? "ok" : "nope", { status });
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/webhook`,
    received,
    types: () => received.map((r) => JSON.parse(r.body).type),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
