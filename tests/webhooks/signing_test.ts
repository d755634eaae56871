/** Standard Webhooks signing: the spec's own test vector, and an independent verifier's word. */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  generateSigningSecret,
  signatureOf,
  signingKeyOf,
  webhookHeaders,
} from "../../lib/webhooks/signing.ts";

Deno.test("the signature matches the Standard Webhooks reference vector", async () => {
  // libraries/javascript/src/webhook.test.ts, "sign function works" (standard-webhooks repo).
  const key = await signingKeyOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  const signature = await signatureOf(
    key,
    "msg_p5jXN8AQM9LWM0D4loKWxJek",
    1614265330,
    '{"test": 2432232314}',
  );
  assert.equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});

Deno.test("a new secret is whsec_ + base64 of 32 bytes, and the standardwebhooks package verifies what it signs", async () => {
  const secret = generateSigningSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const body = JSON.stringify({
    type: "webhook.test",
    timestamp: new Date().toISOString(),
    data: {},
  });
  const headers = await webhookHeaders(await signingKeyOf(secret), "msg_abc", new Date(), body);
  assert.equal(headers["content-type"], "application/json");
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(generateSigningSecret()).verify(body, headers));
});
