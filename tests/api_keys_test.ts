import assert from "node:assert/strict";
import { generateApiKey, hashApiKey, isApiKeyShaped, keyPrefix } from "../lib/api_keys.ts";

Deno.test("API keys are dk_live_/dk_test_ plus 32 random URL-safe bytes, never alike", () => {
  const live = generateApiKey("live");
  const test = generateApiKey("test");
  assert.match(live, /^dk_live_[A-Za-z0-9_-]{43}$/);
  assert.match(test, /^dk_test_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(generateApiKey(), generateApiKey());
  assert.ok(isApiKeyShaped(live) && isApiKeyShaped(test));
  assert.ok(!isApiKeyShaped(`pk_live_${"a".repeat(43)}`));
  assert.ok(!isApiKeyShaped("dk_live_short"));
});

Deno.test("a key is stored as its SHA-256 hex and shown only by a short prefix", () => {
  const key = "dk_live_" + "A".repeat(43);
  assert.match(hashApiKey(key), /^[0-9a-f]{64}$/);
  // Known vector: SHA-256("abc").
  assert.equal(
    hashApiKey("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(keyPrefix(key), "dk_live_AAAA…");
  assert.equal(keyPrefix("dk_test_Zyx9" + "a".repeat(39)), "dk_test_Zyx9…");
});
