/**
 * The one home of dream-api's configuration: every environment variable the service reads is
 * named here, parsed once with zod and handed to the rest of the code as a typed `Config`.
 * Nothing else reads `Deno.env`.
 */
import { z } from "zod";
import { issuesOf } from "./lib/errors.ts";

const optional = z.string().trim().min(1).optional().catch(undefined);

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /** A file path, `:memory:`, or a KV Connect URL (`http(s)://…`). */
  KV_PATH: optional,
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  APP_ENV: z.enum(["development", "production", "test"]).optional(),
  /** Set by Deno Deploy; implies production and the deployment's own KV. */
  DENO_DEPLOYMENT_ID: optional,
  /** KV Connect access token, read by Deno itself when KV_PATH is a URL. */
  DENO_KV_ACCESS_TOKEN: optional,

  // Founders' sign-in (Clerk, verified with jose).
  CLERK_JWT_KEY: optional,
  CLERK_JWKS_URL: z.url().optional(),
  CLERK_ISSUER: optional,
  CLERK_AUTHORIZED_PARTIES: optional,
  CLERK_PUBLISHABLE_KEY: optional,

  // dream-api's own Stripe account, and the base URL of every Stripe client we build.
  STRIPE_SECRET_KEY: optional,
  STRIPE_WEBHOOK_SECRET: optional,
  STRIPE_PRICE_ID: optional,
  STRIPE_API_URL: z.url().optional(),
  /**
   * Stripe Connect (OAuth, Standard accounts): the platform's client id (`ca_…`), the signing
   * secret of its Connect webhook endpoint, and where OAuth is served. Connect is offered only
   * with both the client id and the secret (the pasted key stays the alternative).
   */
  STRIPE_CONNECT_CLIENT_ID: z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z.string().trim().regex(/^ca_\w+$/, "a Connect client id, ca_…").optional(),
  ),
  STRIPE_CONNECT_WEBHOOK_SECRET: optional,
  STRIPE_CONNECT_URL: z.url({ protocol: /^https?$/ }).default("https://connect.stripe.com"),

  /** base64 of 32 bytes: the master key that encrypts founders' Stripe secrets at rest. */
  ENCRYPTION_KEY: optional,

  /** Port of the local Stripe-compatible server `deno task dev` starts when no Stripe is configured. */
  LOCAL_STRIPE_PORT: z.coerce.number().int().min(0).max(65535).default(12111),

  /** How long a process may serve a cached API key or tier config written by another process. */
  CACHE_TTL_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),

  /**
   * How many HTTP isolates `deno task start` serves from (serve.ts, host.ts). Above 1, they share
   * the port and count through one meter in an isolate of its own, a light thread (README,
   * "Running on every core"). The default is the number of cores (1 is one isolate with its own
   * meter). With PORT=0 (a free port per listener) the default is 1.
   */
  WORKERS: z.coerce.number().int().min(1).max(64).optional(),
});

/** `WORKERS`' default: one HTTP isolate per core (1 to 64). */
function defaultWorkers(): number {
  return Math.max(1, Math.min(64, navigator.hardwareConcurrency ?? 1));
}

export type AppEnv = "development" | "production" | "test";

export interface Config {
  port: number;
  /** `undefined` means the platform's default KV (Deno Deploy). */
  kvPath: string | undefined;
  publicUrl: string;
  appEnv: AppEnv;
  cacheTtlMs: number;
  /** How many server processes serve.ts runs (`WORKERS`). */
  workers: number;
  /** Development only: where the local Stripe listens (see `dev/stripe/bootstrap.ts`). */
  localStripePort: number;
  clerk: {
    jwtKey?: string;
    jwksUrl?: string;
    issuer?: string;
    authorizedParties: string[];
    publishableKey?: string;
  };
  stripe: {
    secretKey?: string;
    webhookSecret?: string;
    priceId?: string;
    apiUrl?: string;
    /** Stripe Connect; `clientId` and `webhookSecret` are both set or both absent. */
    connect: { clientId?: string; webhookSecret?: string; url: string };
  };
  encryptionKey?: string;
}

/** Thrown when the environment cannot make a valid configuration; its message names every variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Variables production cannot start without. */
const REQUIRED_IN_PRODUCTION: ReadonlyArray<[keyof z.infer<typeof EnvSchema>, string]> = [
  ["PUBLIC_URL", "the public base URL, e.g. https://api.example.com"],
  ["ENCRYPTION_KEY", "base64 of 32 random bytes"],
  ["STRIPE_SECRET_KEY", "dream-api's own Stripe secret key"],
  ["STRIPE_WEBHOOK_SECRET", "signing secret of /webhook/platform"],
  ["STRIPE_PRICE_ID", "the $29/month price"],
];

/**
 * Parses an environment into a `Config`. Pure: tests pass a plain object.
 * @example parseConfig({ APP_ENV: "test", KV_PATH: ":memory:" })
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = issuesOf(parsed.error).map((i) => `  ${i.path}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const appEnv: AppEnv = e.DENO_DEPLOYMENT_ID ? "production" : e.APP_ENV ?? "development";

  if (appEnv === "production") {
    const missing = REQUIRED_IN_PRODUCTION.filter(([name]) => !e[name]);
    if (!e.CLERK_JWT_KEY && !e.CLERK_JWKS_URL) {
      missing.push(["CLERK_JWT_KEY", "or CLERK_JWKS_URL: founders' sign-in (Clerk)"]);
    }
    if (missing.length > 0) {
      throw new ConfigError(
        `Missing required environment variables for production:\n${
          missing.map(([name, what]) => `  ${name} (${what})`).join("\n")
        }`,
      );
    }
  }

  if (!e.STRIPE_CONNECT_CLIENT_ID !== !e.STRIPE_CONNECT_WEBHOOK_SECRET) {
    // One without the other connects accounts whose events never arrive (or receives events of
    // accounts nobody can connect): refuse to start rather than half-work.
    throw new ConfigError(
      "Invalid environment:\n  STRIPE_CONNECT_CLIENT_ID and STRIPE_CONNECT_WEBHOOK_SECRET " +
        "are set together (Stripe Connect) or not at all.",
    );
  }

  const kvPath = e.KV_PATH ?? (e.DENO_DEPLOYMENT_ID ? undefined : ".data/dream-api.kv");
  return {
    port: e.PORT,
    kvPath,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    appEnv,
    cacheTtlMs: e.CACHE_TTL_MS,
    workers: e.WORKERS ?? (e.PORT === 0 ? 1 : defaultWorkers()),
    localStripePort: e.LOCAL_STRIPE_PORT,
    clerk: {
      jwtKey: e.CLERK_JWT_KEY,
      jwksUrl: e.CLERK_JWKS_URL,
      issuer: e.CLERK_ISSUER,
      authorizedParties: (e.CLERK_AUTHORIZED_PARTIES ?? "").split(",").map((s) => s.trim())
        .filter(Boolean),
      publishableKey: e.CLERK_PUBLISHABLE_KEY,
    },
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      priceId: e.STRIPE_PRICE_ID,
      apiUrl: e.STRIPE_API_URL,
      connect: {
        clientId: e.STRIPE_CONNECT_CLIENT_ID,
        webhookSecret: e.STRIPE_CONNECT_WEBHOOK_SECRET,
        url: e.STRIPE_CONNECT_URL.replace(/\/+$/, ""),
      },
    },
    encryptionKey: e.ENCRYPTION_KEY,
  };
}

/** Reads the process environment once. Only `main.ts` and the CLI call this. */
export function readConfig(overrides: Record<string, string | undefined> = {}): Config {
  return parseConfig({ ...Deno.env.toObject(), ...overrides });
}

/**
 * `readConfig` for an entry point (main.ts, serve.ts): an environment that makes no valid
 * configuration prints its message (naming every variable) and exits 1, with no stack trace.
 */
export function readConfigOrExit(overrides: Record<string, string | undefined> = {}): Config {
  try {
    return readConfig(overrides);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`dream-api cannot start.\n${error.message}`);
    Deno.exit(1);
  }
}
