/** The founders' session rules (Clerk session JWTs verified with jose). */
import assert from "node:assert/strict";
import { exportJWK, exportSPKI, type JWK, SignJWT } from "jose";
import {
  createDevSigner,
  createFounderAuth,
  createSessionVerifier,
  devSignInEnabled,
  generateDevKeyPair,
  loadDevKeyPair,
  type SessionResult,
} from "../../lib/auth/clerk.ts";
import { parseConfig } from "../../fresh.config.ts";
import { encodeBase64Url } from "../../lib/encoding.ts";

const NOW = new Date("2026-11-15T12:00:00.000Z");
const nowS = Math.floor(NOW.getTime() / 1000);
const APP = "https://app.example.com";

const pair = await generateDevKeyPair();
const otherPair = await generateDevKeyPair();
const pem = await exportSPKI(pair.publicKey);

/** A Clerk-shaped token signed with `key`, valid now unless the claims say otherwise. */
async function token(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey; kid?: string; alg?: string } = {},
): Promise<string> {
  const payload = {
    sub: "user_123",
    azp: APP,
    sid: "sess_1",
    iat: nowS - 10,
    nbf: nowS - 10,
    exp: nowS + 60,
    ...claims,
  };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? "ins_1" });
  return await jwt.sign(options.key ?? pair.privateKey);
}

function pemVerifier(extra: { issuer?: string; authorizedParties?: string[] } = {}) {
  return createSessionVerifier(
    { jwtKey: pem, authorizedParties: extra.authorizedParties ?? [APP], issuer: extra.issuer },
    { now: () => NOW },
  );
}

function assertRefused(result: SessionResult, reason: string) {
  assert.equal(result.ok, false, `expected refusal '${reason}', got ${JSON.stringify(result)}`);
  if (!result.ok) assert.equal(result.reason, reason);
}

Deno.test("a valid RS256 token against the PEM key (networkless) yields sub as the user id", async () => {
  const result = await pemVerifier()(await token());
  assert.equal(result.ok, true, JSON.stringify(result));
  if (result.ok) {
    assert.equal(result.userId, "user_123");
    assert.equal(result.claims.sid, "sess_1");
  }
});

Deno.test("a PEM with literal \\n escapes (as env files carry it) still verifies", async () => {
  const verify = createSessionVerifier(
    { jwtKey: pem.replaceAll("\n", "\\n"), authorizedParties: [] },
    { now: () => NOW },
  );
  assert.equal((await verify(await token())).ok, true);
});

Deno.test("an expired token is refused; within the 5 s skew it still passes", async () => {
  assertRefused(await pemVerifier()(await token({ exp: nowS - 6 })), "expired");
  assert.equal((await pemVerifier()(await token({ exp: nowS - 4 }))).ok, true);
});

Deno.test("a token not yet valid (nbf in the future) is refused; within 5 s it passes", async () => {
  assertRefused(await pemVerifier()(await token({ nbf: nowS + 6 })), "not_yet_valid");
  assert.equal((await pemVerifier()(await token({ nbf: nowS + 4 }))).ok, true);
});

Deno.test("a token without exp is refused (it would never expire)", async () => {
  const jwt = await new SignJWT({ azp: APP })
    .setProtectedHeader({ alg: "RS256" })
    .setSubject("user_123")
    .sign(pair.privateKey);
  assertRefused(await pemVerifier()(jwt), "malformed");
});

Deno.test("azp must be an authorized party when parties are configured; missing azp is refused too", async () => {
  assertRefused(await pemVerifier()(await token({ azp: "https://evil.example.com" })), "wrong_azp");
  assertRefused(await pemVerifier()(await token({ azp: undefined })), "wrong_azp");
  const anyParty = pemVerifier({ authorizedParties: [] });
  assert.equal((await anyParty(await token({ azp: "https://other.example.com" }))).ok, true);
});

Deno.test("iss is checked when CLERK_ISSUER is set", async () => {
  const verify = pemVerifier({ issuer: "https://clerk.example.com" });
  assertRefused(await verify(await token({ iss: "https://clerk.evil.com" })), "wrong_issuer");
  assert.equal((await verify(await token({ iss: "https://clerk.example.com" }))).ok, true);
});

Deno.test("a token signed by another key is refused (wrong signature)", async () => {
  assertRefused(
    await pemVerifier()(await token({}, { key: otherPair.privateKey })),
    "bad_signature",
  );
});

Deno.test("a tampered payload is refused (wrong signature)", async () => {
  const [h, , s] = (await token()).split(".");
  const forged = encodeBase64Url(
    new TextEncoder().encode(JSON.stringify({ sub: "user_admin", azp: APP, exp: nowS + 60 })),
  );
  assertRefused(await pemVerifier()(`${h}.${forged}.${s}`), "bad_signature");
});

Deno.test("alg none is refused", async () => {
  const enc = (v: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(v)));
  const unsigned = `${enc({ alg: "none", typ: "JWT" })}.${
    enc({ sub: "user_123", azp: APP, exp: nowS + 60 })
  }.`;
  assertRefused(await pemVerifier()(unsigned), "wrong_alg");
});

Deno.test("HS256 signed with the public key as the secret is refused (algorithm confusion)", async () => {
  const secret = new TextEncoder().encode(pem);
  const hs = await new SignJWT({ azp: APP })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user_123")
    .setExpirationTime(nowS + 60)
    .sign(secret);
  assertRefused(await pemVerifier()(hs), "wrong_alg");
});

Deno.test("garbage and empty tokens are refused without throwing", async () => {
  assertRefused(await pemVerifier()("not.a.jwt"), "malformed");
  assertRefused(await pemVerifier()("abc"), "malformed");
  assertRefused(await pemVerifier()(""), "missing");
});

/** A local JWKS server whose key set can be swapped, counting fetches. */
function jwksServer(initial: JWK[]) {
  let keys = initial;
  let fetches = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    fetches++;
    return Response.json({ keys });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    setKeys(next: JWK[]) {
      keys = next;
    },
    get fetches() {
      return fetches;
    },
    close: () => server.shutdown(),
  };
}

async function publicJwk(key: CryptoKey, kid: string): Promise<JWK> {
  return { ...(await exportJWK(key)), kid, alg: "RS256", use: "sig" };
}

Deno.test("JWKS: keys are fetched once and cached across verifications", async () => {
  const jwks = jwksServer([await publicJwk(pair.publicKey, "ins_1")]);
  try {
    const verify = createSessionVerifier({ jwksUrl: jwks.url, authorizedParties: [APP] }, {
      now: () => NOW,
    });
    for (let i = 0; i < 3; i++) assert.equal((await verify(await token())).ok, true);
    assert.equal(jwks.fetches, 1);
  } finally {
    await jwks.close();
  }
});

Deno.test("JWKS: an unknown kid is refused when the set does not have it", async () => {
  const jwks = jwksServer([await publicJwk(pair.publicKey, "ins_1")]);
  try {
    const verify = createSessionVerifier({ jwksUrl: jwks.url, authorizedParties: [APP] }, {
      now: () => NOW,
    });
    assertRefused(
      await verify(await token({}, { key: otherPair.privateKey, kid: "ins_unknown" })),
      "unknown_key",
    );
  } finally {
    await jwks.close();
  }
});

Deno.test("JWKS: a rotated key (new kid) is picked up by refetching the set, through the given fetch", async () => {
  const jwks = jwksServer([await publicJwk(pair.publicKey, "ins_1")]);
  try {
    let fetchCalls = 0;
    const verify = createSessionVerifier({ jwksUrl: jwks.url, authorizedParties: [APP] }, {
      now: () => NOW,
      jwksCooldownMs: 0,
      fetch: (input, init) => {
        fetchCalls++;
        return fetch(input, init);
      },
    });
    assert.equal((await verify(await token())).ok, true);
    // Clerk rotates its instance key: the set now also holds a new kid.
    jwks.setKeys([
      await publicJwk(pair.publicKey, "ins_1"),
      await publicJwk(otherPair.publicKey, "ins_2"),
    ]);
    const rotated = await verify(await token({}, { key: otherPair.privateKey, kid: "ins_2" }));
    assert.equal(rotated.ok, true, JSON.stringify(rotated));
    assert.equal(jwks.fetches, 2);
    assert.equal(fetchCalls, 2);
  } finally {
    await jwks.close();
  }
});

Deno.test("JWKS: within the cooldown an unknown kid does not trigger another fetch", async () => {
  const jwks = jwksServer([await publicJwk(pair.publicKey, "ins_1")]);
  try {
    const verify = createSessionVerifier({ jwksUrl: jwks.url, authorizedParties: [APP] }, {
      now: () => NOW,
    });
    assert.equal((await verify(await token())).ok, true);
    for (let i = 0; i < 5; i++) {
      assertRefused(
        await verify(await token({}, { key: otherPair.privateKey, kid: `ins_x${i}` })),
        "unknown_key",
      );
    }
    assert.equal(jwks.fetches, 1, "a flood of unknown kids must not hammer the JWKS endpoint");
  } finally {
    await jwks.close();
  }
});

Deno.test("JWKS: an unreachable JWKS refuses as unavailable, not as a bad token", async () => {
  const verify = createSessionVerifier(
    { jwksUrl: "http://127.0.0.1:9/jwks.json", authorizedParties: [] },
    { now: () => NOW, fetch: () => Promise.reject(new TypeError("connection refused")) },
  );
  assertRefused(await verify(await token()), "unavailable");
});

Deno.test("development sign-in: the dev signer's tokens pass the same verifier; another dev key's do not", async () => {
  const config = parseConfig({ APP_ENV: "development", PUBLIC_URL: "http://localhost:8000" });
  assert.equal(devSignInEnabled(config), true);
  const { verifySession, devSigner } = createFounderAuth(config, {
    devKeyPair: pair,
    now: () => NOW,
  });
  assert.ok(devSigner);
  const ok = await verifySession(await devSigner.sign("user_dev_1"));
  assert.equal(ok.ok, true, JSON.stringify(ok));
  if (ok.ok) assert.equal(ok.claims.azp, "http://localhost:8000");

  const foreign = createDevSigner(otherPair, { azp: "http://localhost:8000", now: () => NOW });
  assertRefused(await verifySession(await foreign.sign("user_dev_1")), "bad_signature");
  // Expiry applies to dev tokens too.
  assertRefused(
    await verifySession(await devSigner.sign("user_dev_1", { ttlSeconds: -10 })),
    "expired",
  );
});

Deno.test("development sign-in is off with a Clerk key and can never be on in production", async () => {
  const withClerk = parseConfig({ APP_ENV: "development", CLERK_JWT_KEY: pem });
  assert.equal(devSignInEnabled(withClerk), false);
  const auth = createFounderAuth(withClerk, { devKeyPair: pair, now: () => NOW });
  assert.equal(auth.devSigner, null);
  assert.equal((await auth.verifySession(await token({ azp: undefined }))).ok, true);

  const production: Parameters<typeof createFounderAuth>[0] = {
    appEnv: "production",
    publicUrl: APP,
    clerk: { authorizedParties: [] },
  };
  assert.equal(devSignInEnabled(production), false);
  assert.throws(() => createFounderAuth(production, { devKeyPair: pair }), /CLERK_JWT_KEY/);
  assert.throws(
    () => parseConfig({ APP_ENV: "production" }),
    /CLERK_JWT_KEY \(or CLERK_JWKS_URL/,
  );
});

Deno.test("a token whose sub is empty is refused", async () => {
  const jwt = await new SignJWT({ azp: APP })
    .setProtectedHeader({ alg: "RS256" })
    .setSubject("")
    .setExpirationTime(nowS + 60)
    .sign(pair.privateKey);
  assert.equal((await pemVerifier()(jwt)).ok, false);
});

Deno.test("the development key pair is generated once under .data-like paths (0600) and signs verifiable tokens after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/dev-session-key.json`;
  const first = await loadDevKeyPair(path);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const token = await createDevSigner(first, { now: () => NOW }).sign("user_dev_r");
  const again = await loadDevKeyPair(path);
  const verify = createSessionVerifier({ authorizedParties: [], devPublicKey: again.publicKey }, {
    now: () => NOW,
  });
  const result = await verify(token);
  assert.equal(result.ok, true, JSON.stringify(result));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a pending session (sts: pending) is not signed in; an active one is", async () => {
  assertRefused(await pemVerifier()(await token({ sts: "pending" })), "pending_session");
  assert.equal((await pemVerifier()(await token({ sts: "active" }))).ok, true);
});
