/** Production never starts without Clerk (and never offers development sign-in). */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generateEncryptionKey } from "../../lib/crypto/secrets.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

Deno.test("main.ts in production without CLERK_JWT_KEY or CLERK_JWKS_URL exits 1 with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    clearEnv: true,
    cwd: dir,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      APP_ENV: "production",
      PORT: "0",
      KV_PATH: ":memory:",
      PUBLIC_URL: "https://dash.example.com",
      ENCRYPTION_KEY: generateEncryptionKey(),
      STRIPE_SECRET_KEY: "sk_test_x_production_start",
      STRIPE_WEBHOOK_SECRET: "whsec_x",
      STRIPE_PRICE_ID: "price_x",
    },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 1, text);
  assert.match(text, /cannot start/);
  assert.match(text, /CLERK_JWT_KEY \(or CLERK_JWKS_URL/);
  // Nothing was generated for development sign-in.
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(files, []);
  await Deno.remove(dir, { recursive: true });
});
