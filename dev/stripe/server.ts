/**
 * A local Stripe-compatible server for development and tests: the `/v1` API the real `stripe` SDK
 * talks to, Connect's OAuth endpoints and consent page, hosted Checkout and portal pages, signed
 * webhook deliveries, and `/_test` controls.
 * @example
 * await using stripeServer = await startLocalStripe();
 * const stripe = createStripeFactory({ apiUrl: stripeServer.url })("sk_test_founder_a");
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { apiRoutes, type Ctx } from "./api.ts";
import { Billing } from "./billing.ts";
import { LocalStripeClient } from "./client.ts";
import { Connect } from "./connect.ts";
import { oauthRoutes } from "./oauth.ts";
import { injectFaults } from "./faults.ts";
import { StripeApiError } from "./errors.ts";
import { pageRoutes } from "./pages.ts";
import { Store } from "./store.ts";
import { testRoutes } from "./test_controls.ts";
import { Webhooks } from "./webhooks.ts";

export interface LocalStripeOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (not reachable from other machines). */
  hostname?: string;
  /** Base URL of the hosted pages in `session.url`; default the listening URL. */
  publicUrl?: string;
  /** The clock for `created`, billing periods and signature timestamps; default real time. */
  now?: () => Date;
  /** Sends webhooks; default the global `fetch` (real HTTP to the endpoint URL). */
  fetch?: typeof fetch;
  /** A JSON file keeping the state across restarts; default none (memory only). */
  statePath?: string;
}

/** A running local Stripe: its URL, its state, and the `/_test` helpers. */
export class LocalStripeServer extends LocalStripeClient implements AsyncDisposable {
  constructor(
    url: string,
    readonly port: number,
    readonly store: Store,
    private server: Deno.HttpServer,
  ) {
    super(url);
  }

  /** Stops listening once in-flight requests (and their webhook deliveries) are done. */
  async close(): Promise<void> {
    await this.server.shutdown();
    await this.store.save();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Builds the HTTP handler of a local Stripe over `ctx` (exposed for in-process use). */
export function localStripeApp(ctx: Ctx): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof StripeApiError) {
      return c.json(error.toJSON(), error.status as ContentfulStatusCode);
    }
    if (error instanceof SyntaxError) {
      return c.json(StripeApiError.invalid(`Invalid JSON: ${error.message}`).toJSON(), 400);
    }
    console.error("local Stripe:", error);
    return c.json({ error: { type: "api_error", message: "An unknown error occurred." } }, 500);
  });
  // Mutations are mirrored to the state file (when there is one) before answering.
  app.use("*", async (c, next) => {
    await next();
    if (c.req.method !== "GET") await ctx.store.save();
  });
  app.use("/v1/*", injectFaults(ctx.faults));
  app.use("/oauth/*", injectFaults(ctx.faults));
  app.route("/v1", apiRoutes(ctx));
  app.route("/", oauthRoutes(ctx));
  app.route("/_test", testRoutes(ctx));
  app.route("/", pageRoutes(ctx));
  app.get("/", (c) => c.text("Local Stripe-compatible server (dream-api dev/stripe).\n"));
  return app;
}

/**
 * Starts a local Stripe. Every distinct API key is its own account (see `accountIdFor`);
 * state lives in memory unless `statePath` is given.
 */
export async function startLocalStripe(
  options: LocalStripeOptions = {},
): Promise<LocalStripeServer> {
  const store = await Store.open({ now: options.now, path: options.statePath });
  const webhooks = new Webhooks(store, options.fetch);
  const ctx: Ctx = {
    store,
    webhooks,
    billing: new Billing(store, webhooks),
    connect: new Connect(store, webhooks),
    baseUrl: "",
    faults: [],
  };
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve(
    { port: options.port ?? 0, hostname, onListen: () => {} },
    localStripeApp(ctx).fetch,
  );
  const { port } = server.addr as Deno.NetAddr;
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  ctx.baseUrl = (options.publicUrl ?? url).replace(/\/+$/, "");
  return new LocalStripeServer(url, port, store, server);
}
