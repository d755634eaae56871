/**
 * What `main.ts` tells the person who just ran it, besides the JSON log: where to go and how to
 * sign in, or, when a port is taken, which one and what to set. Plain lines, no stack traces.
 */

/** The port-holding servers `main.ts` starts, and the variable that moves each. */
const PORTS = {
  server: { what: "dream-api", variable: "PORT" },
  localStripe: { what: "the local Stripe", variable: "LOCAL_STRIPE_PORT" },
} as const;

/**
 * One line saying which port is in use and what to set instead.
 * @example portInUseMessage("localStripe", 12111)
 * // "Port 12111 (the local Stripe) is already in use: set LOCAL_STRIPE_PORT to a free port, e.g. LOCAL_STRIPE_PORT=12112 deno task dev"
 */
export function portInUseMessage(server: keyof typeof PORTS, port: number): string {
  const { what, variable } = PORTS[server];
  const example = port > 0 && port < 65535 ? port + 1 : 0;
  return `Port ${port} (${what}) is already in use: set ${variable} to a free port, ` +
    `e.g. ${variable}=${example} deno task dev`;
}

/**
 * The lines printed once the server listens: the URL to open and, with the development sign-in
 * and the local Stripe, how to get in without any account.
 */
export function startupMessage(options: {
  url: string;
  devSignIn: boolean;
  localStripeUrl?: string;
}): string {
  const lines = [`dream-api is running: open ${options.url}`];
  if (options.devSignIn) {
    lines.push(
      `  Sign in at ${options.url}/sign-in with any email (development sign-in, no Clerk account).`,
    );
  }
  if (options.localStripeUrl) {
    lines.push(
      `  Stripe runs locally (${options.localStripeUrl}): checkout needs no card, and "Connect with ` +
        `Stripe" (a local consent page) or any sk_test_… key connects a founder's Stripe.`,
    );
  }
  return lines.join("\n");
}

/**
 * Where development keeps its generated keys (sessions and sealed secrets survive restarts).
 * serve.ts creates them before its workers start, so N workers never race to write two keys.
 */
export const DEV_FILES = {
  encryptionKey: ".data/encryption.key",
  sessionKeyPair: ".data/dev-session-key.json",
} as const;
