/**
 * The whole product as a browser test meets it: the built islands, the local Stripe set up as
 * `deno task dev` sets it up, and the real server (`main.ts` as a subprocess) on a known port
 * (its PUBLIC_URL, which CSRF trusts, must be known before it starts) with a fresh KV file.
 */
import { bootstrapLocalStripe, type LocalStripeBootstrap } from "../../dev/stripe/mod.ts";
import { encodeBase64 } from "../../lib/encoding.ts";
import { buildIslands } from "../../lib/ui/build.ts";
import { freePort, type RunningServer, startServer } from "./server.ts";

export interface Stack extends AsyncDisposable {
  /** The server's base URL (`http://127.0.0.1:<port>`). */
  base: string;
  stripe: LocalStripeBootstrap;
  server: RunningServer;
}

/** Starts the stack; `connect`: the server is also given the local Stripe's Connect settings. */
export async function startStack(options: { connect?: boolean } = {}): Promise<Stack> {
  await buildIslands(); // the server (APP_ENV=test) serves what is built
  const dir = await Deno.makeTempDir({ prefix: "dream-e2e-" });
  const base = `http://127.0.0.1:${freePort()}`;
  const stripe = await bootstrapLocalStripe({ publicUrl: base, port: 0, statePath: null });
  const connect: Record<string, string> = options.connect
    ? {
      STRIPE_CONNECT_CLIENT_ID: stripe.connectClientId,
      STRIPE_CONNECT_WEBHOOK_SECRET: stripe.connectWebhookSecret,
      STRIPE_CONNECT_URL: stripe.connectUrl,
    }
    : {};
  const server = await startServer({
    PORT: new URL(base).port,
    PUBLIC_URL: base,
    KV_PATH: `${dir}/dream.kv`,
    ENCRYPTION_KEY: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
    STRIPE_API_URL: stripe.apiUrl,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_PRICE_ID: stripe.priceId,
    STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    ...connect,
  }).catch(async (error) => {
    await stripe.close();
    throw error;
  });
  return {
    base,
    stripe,
    server,
    async [Symbol.asyncDispose]() {
      await server.stop();
      await stripe.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
