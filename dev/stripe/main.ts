/**
 * `deno task stripe:local [--port 12111] [--state FILE] [--bootstrap APP_URL]`: runs the local
 * Stripe on its own. With `--bootstrap http://localhost:8000` it also prepares dream-api's account
 * and prints the STRIPE_* variables to start dream-api against it.
 */
import { parseArgs } from "node:util";
import { bootstrapLocalStripe } from "./bootstrap.ts";
import { startLocalStripe } from "./server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "12111" },
    state: { type: "string" },
    bootstrap: { type: "string" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  Deno.exit(2);
}

let close: () => Promise<void>;
if (values.bootstrap) {
  const local = await bootstrapLocalStripe({
    publicUrl: values.bootstrap,
    port,
    statePath: values.state ?? null,
  });
  close = local.close;
  console.log(`Local Stripe listening on ${local.apiUrl}\n`);
  console.log(`STRIPE_API_URL=${local.apiUrl}`);
  console.log(`STRIPE_SECRET_KEY=${local.secretKey}`);
  console.log(`STRIPE_PRICE_ID=${local.priceId}`);
  console.log(`STRIPE_WEBHOOK_SECRET=${local.webhookSecret}`);
  console.log(`STRIPE_CONNECT_URL=${local.connectUrl}`);
  console.log(`STRIPE_CONNECT_CLIENT_ID=${local.connectClientId}`);
  console.log(`STRIPE_CONNECT_WEBHOOK_SECRET=${local.connectWebhookSecret}`);
} else {
  const server = await startLocalStripe({ port, statePath: values.state });
  close = () => server.close();
  console.log(`Local Stripe listening on ${server.url}`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => close().finally(() => Deno.exit(0)));
}
