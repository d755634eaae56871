/**
 * Founders' sessions: Clerk session JWTs verified with jose, and the development signer that
 * issues tokens for the local sign-in. Both kinds go through the same `jwtVerify` path, so
 * development exercises the rules production relies on.
 *
 * Rules (Clerk, "Manual JWT verification"): RS256 only; the key is the instance's PEM public key
 * (`CLERK_JWT_KEY`, networkless) or its JWKS (`CLERK_JWKS_URL`, cached, refetched on an unknown
 * `kid`); `exp`/`nbf` with at most 5 s of clock skew; `iss` when configured; `azp` must be one of
 * the authorized parties when they are configured. The user id is `sub`.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  importSPKI,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import { dirname } from "node:path";

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
export const CLOCK_SKEW_SECONDS = 5;

/** The one algorithm Clerk signs session tokens with. */
const ALGORITHM = "RS256";

/** Why a session token was refused (never shown to the caller beyond "unauthorized"). */
export type SessionFailure =
  | "missing"
  | "malformed"
  | "wrong_alg"
  | "bad_signature"
  | "unknown_key"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_azp"
  | "no_subject"
  | "pending_session"
  | "not_configured"
  | "unavailable";

export type SessionResult =
  | { ok: true; userId: string; email?: string; claims: JWTPayload }
  | { ok: false; reason: SessionFailure };

/** Verifies a session token; never throws for a bad token. */
export type VerifySession = (token: string) => Promise<SessionResult>;

export interface SessionVerifierConfig {
  /** PEM (SPKI) public key of the Clerk instance: networkless verification. */
  jwtKey?: string;
  /** JWKS URL of the Clerk instance, used when `jwtKey` is unset. */
  jwksUrl?: string;
  /** Expected `iss`, when set. */
  issuer?: string;
  /** Allowed `azp` values (origins); empty means any. */
  authorizedParties: string[];
  /** Development public key (see `createDevSigner`), used only when neither Clerk key is set. */
  devPublicKey?: CryptoKey;
}

export interface SessionVerifierOptions {
  /** fetch used for the JWKS (tests point it anywhere). */
  fetch?: typeof fetch;
  /** The clock `exp`/`nbf` are judged against. */
  now?: () => Date;
  /** Least time between two JWKS fetches on unknown `kid`s (default 30 s; tests use 0). */
  jwksCooldownMs?: number;
}

/**
 * Builds the session verifier for a configuration. With no key at all every token is refused
 * with `not_configured` (production cannot start that way: see `fresh.config.ts`).
 * @example const verify = createSessionVerifier(config.clerk); await verify(token)
 */
export function createSessionVerifier(
  config: SessionVerifierConfig,
  options: SessionVerifierOptions = {},
): VerifySession {
  const now = options.now ?? (() => new Date());
  const key = keyResolver(config, options);
  return async function verifySession(token) {
    if (!token) return { ok: false, reason: "missing" };
    if (token.length > 8192) return { ok: false, reason: "malformed" };
    if (!key) return { ok: false, reason: "not_configured" };
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: "malformed" };
    }
    // Checked before any key lookup: `none` and HS* (a public key used as an HMAC secret) never pass.
    if (alg !== ALGORITHM) return { ok: false, reason: "wrong_alg" };
    try {
      const { payload } = await jwtVerify(token, await key(), {
        algorithms: [ALGORITHM],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now(),
        requiredClaims: ["sub", "exp"],
        ...(config.issuer && { issuer: config.issuer }),
      });
      if (typeof payload.sub !== "string" || payload.sub === "") {
        return { ok: false, reason: "no_subject" };
      }
      if (config.authorizedParties.length > 0) {
        // Clerk sets `azp` to the origin that minted the token; a token from another (sub)domain
        // must not open this dashboard. Stricter than Clerk's SDK: a missing `azp` is refused too.
        const azp = payload.azp;
        if (typeof azp !== "string" || !config.authorizedParties.includes(azp)) {
          return { ok: false, reason: "wrong_azp" };
        }
      }
      // Clerk marks a session that still has a task to finish (e.g. choosing an organization)
      // with `sts: "pending"`; it is not signed in yet.
      if (payload.sts === "pending") return { ok: false, reason: "pending_session" };
      const email = sessionEmail(payload);
      return { ok: true, userId: payload.sub, ...(email && { email }), claims: payload };
    } catch (error) {
      return { ok: false, reason: failureOf(error) };
    }
  };
}

/**
 * The founder's email from a session's `email` claim: Clerk puts it there when the instance's
 * session token is customized with `{"email": "{{user.primary_email_address}}"}` (README), and
 * the development sign-in always does. Anything that is not a plausible address is ignored, so
 * pages fall back to the user id.
 */
export function sessionEmail(claims: JWTPayload): string | undefined {
  const email = claims.email;
  return typeof email === "string" && email.length <= 254 &&
      /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)
    ? email
    : undefined;
}

type KeySource = () => Promise<CryptoKey | JWTVerifyGetKey>;

function keyResolver(
  config: SessionVerifierConfig,
  options: SessionVerifierOptions,
): KeySource | null {
  if (config.jwtKey) {
    const pem = normalizePem(config.jwtKey);
    let imported: Promise<CryptoKey> | undefined;
    return () => (imported ??= importSPKI(pem, ALGORITHM));
  }
  if (config.jwksUrl) {
    // jose caches the set, refetches when a token names an unknown `kid` (at most every 30 s).
    const jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      timeoutDuration: 5_000,
      ...(options.fetch && { [customFetch]: options.fetch }),
    });
    return () => Promise.resolve(jwks);
  }
  if (config.devPublicKey) {
    const key = config.devPublicKey;
    return () => Promise.resolve(key);
  }
  return null;
}

/** Environment variables often carry PEMs with literal `\n`; jose needs real newlines. */
function normalizePem(pem: string): string {
  return pem.includes("\\n") ? pem.replaceAll("\\n", "\n") : pem;
}

function failureOf(error: unknown): SessionFailure {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "not_yet_valid";
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "sub") return "no_subject";
    return "malformed";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "wrong_alg";
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown_key";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "unknown_key";
  if (error instanceof errors.JWKSTimeout) return "unavailable";
  if (
    error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) return "malformed";
  // A failed JWKS fetch (network, non-200, bad JSON): the token may be fine, we can't tell.
  return "unavailable";
}

/** Whether the local development sign-in is on: never in production, never with Clerk configured. */
export function devSignInEnabled(
  config: { appEnv: string; clerk: { jwtKey?: string; jwksUrl?: string } },
): boolean {
  return config.appEnv !== "production" && !config.clerk.jwtKey && !config.clerk.jwksUrl;
}

/** Issues development session tokens; its public key is handed to `createSessionVerifier`. */
export interface DevSigner {
  publicKey: CryptoKey;
  /** A Clerk-shaped session token for `userId`, valid for `ttlSeconds` (default 12 h). */
  sign(
    userId: string,
    options?: { ttlSeconds?: number; notBefore?: Date; claims?: JWTPayload; kid?: string },
  ): Promise<string>;
}

/** How long a development session lasts (no Clerk script refreshes it). */
export const DEV_SESSION_TTL_SECONDS = 12 * 60 * 60;

/**
 * A development signer over an RS256 key pair (from `loadDevKeyPair` or `generateDevKeyPair`).
 * `azp` is the app's public origin, so the verifier's `azp` rule holds in development too.
 * @example const signer = createDevSigner(await generateDevKeyPair(), { azp: "http://localhost:8000" })
 */
export function createDevSigner(
  keyPair: CryptoKeyPair,
  options: { azp?: string; issuer?: string; now?: () => Date } = {},
): DevSigner {
  const now = options.now ?? (() => new Date());
  return {
    publicKey: keyPair.publicKey,
    async sign(userId, signOptions = {}) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const nbf = signOptions.notBefore
        ? Math.floor(signOptions.notBefore.getTime() / 1000)
        : issuedAt;
      const jwt = new SignJWT({
        ...(options.azp && { azp: options.azp }),
        sid: `sess_dev_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
        ...signOptions.claims,
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: "JWT", kid: signOptions.kid ?? "dev" })
        .setSubject(userId)
        .setIssuedAt(issuedAt)
        .setNotBefore(nbf)
        .setExpirationTime(issuedAt + (signOptions.ttlSeconds ?? DEV_SESSION_TTL_SECONDS));
      if (options.issuer) jwt.setIssuer(options.issuer);
      return await jwt.sign(keyPair.privateKey);
    },
  };
}

/** A fresh RS256 key pair, in memory (tests). */
export async function generateDevKeyPair(): Promise<CryptoKeyPair> {
  return await generateKeyPair(ALGORITHM, { modulusLength: 2048, extractable: true });
}

/**
 * The development key pair kept at `path` (JWK JSON), generated on first use so development
 * sessions survive restarts. Never used in production (see `devSignInEnabled`).
 */
export async function loadDevKeyPair(path: string): Promise<CryptoKeyPair> {
  try {
    const stored = JSON.parse(await Deno.readTextFile(path)) as { privateKey: JWK; publicKey: JWK };
    return {
      privateKey: await importJWK(stored.privateKey, ALGORITHM) as CryptoKey,
      publicKey: await importJWK(stored.publicKey, ALGORITHM) as CryptoKey,
    };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const pair = await generateDevKeyPair();
  const body = JSON.stringify({
    privateKey: await exportJWK(pair.privateKey),
    publicKey: await exportJWK(pair.publicKey),
  });
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, body, { mode: 0o600 });
  return pair;
}

/**
 * The founders' auth for a configuration: Clerk verification when a Clerk key is set; otherwise
 * (never in production) development sign-in with `devKeyPair`, verified by the same path.
 * Throws when production has no Clerk key (the config refuses that first) or development sign-in
 * is on without a key pair.
 */
export function createFounderAuth(
  config: {
    appEnv: string;
    publicUrl: string;
    clerk: { jwtKey?: string; jwksUrl?: string; issuer?: string; authorizedParties: string[] };
  },
  options: SessionVerifierOptions & { devKeyPair?: CryptoKeyPair } = {},
): { verifySession: VerifySession; devSigner: DevSigner | null } {
  if (!devSignInEnabled(config)) {
    if (!config.clerk.jwtKey && !config.clerk.jwksUrl) {
      throw new Error("Founders' sign-in needs CLERK_JWT_KEY or CLERK_JWKS_URL in production.");
    }
    return { verifySession: createSessionVerifier(config.clerk, options), devSigner: null };
  }
  if (!options.devKeyPair) throw new Error("development sign-in needs a key pair");
  const azp = new URL(config.publicUrl).origin;
  const devSigner = createDevSigner(options.devKeyPair, { azp, now: options.now });
  const verifySession = createSessionVerifier(
    {
      authorizedParties: config.clerk.authorizedParties,
      issuer: undefined,
      devPublicKey: devSigner.publicKey,
    },
    options,
  );
  return { verifySession, devSigner };
}
