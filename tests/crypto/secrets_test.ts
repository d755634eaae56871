/** The AES-256-GCM envelope for founders' Stripe secrets. */
import assert from "node:assert/strict";
import {
  createSecretBox,
  DecryptError,
  generateEncryptionKey,
  loadOrCreateDevEncryptionKey,
} from "../../lib/crypto/secrets.ts";
import { decodeBase64, encodeBase64 } from "../../lib/encoding.ts";

Deno.test("a sealed secret opens under the same key and platform id", async () => {
  const box = await createSecretBox(generateEncryptionKey());
  const sealed = await box.seal("sk_test_abc123", "plt_1");
  assert.equal(sealed.v, 1);
  assert.equal(decodeBase64(sealed.iv).length, 12);
  assert.equal(decodeBase64(sealed.ct).length, "sk_test_abc123".length + 16, "ciphertext + tag");
  assert.ok(!JSON.stringify(sealed).includes("sk_test_abc123"));
  assert.equal(await box.open(sealed, "plt_1"), "sk_test_abc123");
});

Deno.test("every seal uses a fresh IV: the same secret never gives the same record", async () => {
  const box = await createSecretBox(generateEncryptionKey());
  const ivs = new Set<string>();
  const cts = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const sealed = await box.seal("sk_test_same", "plt_1");
    ivs.add(sealed.iv);
    cts.add(sealed.ct);
  }
  assert.equal(ivs.size, 50);
  assert.equal(cts.size, 50);
});

Deno.test("a record does not open for another platform id, another key, or after tampering", async () => {
  const key = generateEncryptionKey();
  const box = await createSecretBox(key);
  const sealed = await box.seal("whsec_secret", "plt_a");
  await assert.rejects(box.open(sealed, "plt_b"), DecryptError);
  await assert.rejects(
    (await createSecretBox(generateEncryptionKey())).open(sealed, "plt_a"),
    DecryptError,
  );
  const ct = decodeBase64(sealed.ct);
  ct[0] ^= 1;
  await assert.rejects(box.open({ ...sealed, ct: encodeBase64(ct) }, "plt_a"), DecryptError);
  const iv = decodeBase64(sealed.iv);
  iv[0] ^= 1;
  await assert.rejects(box.open({ ...sealed, iv: encodeBase64(iv) }, "plt_a"), DecryptError);
  assert.equal(await box.open(sealed, "plt_a"), "whsec_secret");
});

Deno.test("ENCRYPTION_KEY must be base64 of exactly 32 bytes; the error never echoes it", async () => {
  await assert.rejects(createSecretBox("not base64!"), /ENCRYPTION_KEY is not valid base64/);
  const short = encodeBase64(new Uint8Array(16));
  await assert.rejects(createSecretBox(short), (e: Error) => {
    assert.match(e.message, /32 bytes, got 16/);
    assert.ok(!e.message.includes(short));
    return true;
  });
});

Deno.test("the development master key is generated once under the given path (0600) and reused", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/encryption.key`;
  const first = await loadOrCreateDevEncryptionKey(path);
  assert.equal(decodeBase64(first).length, 32);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal(await loadOrCreateDevEncryptionKey(path), first);
  const box = await createSecretBox(first);
  const sealed = await box.seal("sk_test_x", "plt_1");
  assert.equal(
    await (await createSecretBox(await loadOrCreateDevEncryptionKey(path))).open(sealed, "plt_1"),
    "sk_test_x",
  );
  await Deno.remove(dir, { recursive: true });
});
