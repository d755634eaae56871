import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../fresh.config.ts";

Deno.test("config defaults: port 8000, KV under .data/, development, PUBLIC_URL from the port", () => {
  const config = parseConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.kvPath, ".data/dream-api.kv");
  assert.equal(config.appEnv, "development");
  assert.equal(config.publicUrl, "http://localhost:8000");
  assert.equal(parseConfig({ PORT: "9000" }).publicUrl, "http://localhost:9000");
});

Deno.test("config: DENO_DEPLOYMENT_ID implies production and the deployment's own KV", () => {
  const config = parseConfig({
    DENO_DEPLOYMENT_ID: "abc",
    PUBLIC_URL: "https://api.example.com/",
    ENCRYPTION_KEY: "x",
    STRIPE_SECRET_KEY: "sk_live_x",
    STRIPE_WEBHOOK_SECRET: "whsec_x",
    STRIPE_PRICE_ID: "price_x",
    CLERK_JWT_KEY: "pem",
  });
  assert.equal(config.appEnv, "production");
  assert.equal(config.kvPath, undefined);
  assert.equal(config.publicUrl, "https://api.example.com");
});

Deno.test("config: production without required values fails naming every missing variable", () => {
  assert.throws(
    () => parseConfig({ APP_ENV: "production", STRIPE_PRICE_ID: "price_1" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (
        const name of [
          "PUBLIC_URL",
          "ENCRYPTION_KEY",
          "STRIPE_SECRET_KEY",
          "STRIPE_WEBHOOK_SECRET",
          "CLERK_JWT_KEY",
        ]
      ) {
        assert.match(error.message, new RegExp(name), error.message);
      }
      assert.doesNotMatch(error.message, /STRIPE_PRICE_ID/, "a present value is not reported");
      return true;
    },
  );
});

Deno.test("config: malformed values are refused with the variable's name", () => {
  assert.throws(() => parseConfig({ PORT: "eighty" }), /PORT/);
  assert.throws(() => parseConfig({ APP_ENV: "staging" }), /APP_ENV/);
  assert.throws(() => parseConfig({ PUBLIC_URL: "ftp://x" }), /PUBLIC_URL/);
});

Deno.test("config: Stripe Connect is off by default, its URL defaults to https://connect.stripe.com", () => {
  const config = parseConfig({});
  assert.deepEqual(config.stripe.connect, {
    clientId: undefined,
    webhookSecret: undefined,
    url: "https://connect.stripe.com",
  });
  const set = parseConfig({
    STRIPE_CONNECT_CLIENT_ID: "ca_abc123",
    STRIPE_CONNECT_WEBHOOK_SECRET: "whsec_connect",
    STRIPE_CONNECT_URL: "http://localhost:12111/",
  });
  assert.deepEqual(set.stripe.connect, {
    clientId: "ca_abc123",
    webhookSecret: "whsec_connect",
    url: "http://localhost:12111",
  });
});

Deno.test("config: STRIPE_CONNECT_CLIENT_ID and STRIPE_CONNECT_WEBHOOK_SECRET come together, and the id looks like ca_…", () => {
  for (
    const env of [
      { STRIPE_CONNECT_CLIENT_ID: "ca_abc123" },
      { STRIPE_CONNECT_WEBHOOK_SECRET: "whsec_connect" },
    ]
  ) {
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /STRIPE_CONNECT_CLIENT_ID and STRIPE_CONNECT_WEBHOOK_SECRET/);
      return true;
    });
  }
  assert.throws(
    () =>
      parseConfig({
        STRIPE_CONNECT_CLIENT_ID: "acct_123",
        STRIPE_CONNECT_WEBHOOK_SECRET: "whsec_connect",
      }),
    (error: unknown) =>
      error instanceof ConfigError && /STRIPE_CONNECT_CLIENT_ID/.test(error.message),
  );
  assert.throws(
    () => parseConfig({ STRIPE_CONNECT_URL: "ftp://connect.example" }),
    (error: unknown) => error instanceof ConfigError && /STRIPE_CONNECT_URL/.test(error.message),
  );
});
