/**
 * X-User-Id and Idempotency-Key as `Deno.serve` hands them over: one JS character per byte of the
 * header (Latin-1 style), so UTF-8 on the wire arrives as its bytes (U+202E is "\xe2\x80\xae").
 * tests/api/identifiers_test.ts sends the same bytes over a real socket.
 */
import assert from "node:assert/strict";
import { IdempotencyKeySchema, isPlainText, UserIdSchema } from "../../lib/schemas/tenant.ts";

/** The header value of `text` sent as UTF-8: one character per byte. */
const utf8 = (text: string) => String.fromCharCode(...new TextEncoder().encode(text));

const REFUSED: [string, string][] = [
  ["tab (C0)", "a\tb"],
  ["NUL (C0)", "a\u0000"],
  ["DEL", "a\u007f"],
  ["NEL as a Latin-1 byte (C1)", "a\x85"],
  ["CSI as a Latin-1 byte (C1)", "\x9b31m"],
  ["U+0085 NEL as UTF-8 (C1)", utf8("a\u0085")],
  ["U+009F as UTF-8 (C1)", utf8("\u009f")],
  ["U+00AD soft hyphen as a Latin-1 byte (Cf)", "ab\xadc"],
  ["U+00AD soft hyphen as UTF-8 (Cf)", utf8("ab\u00adc")],
  ["U+200B zero width space as UTF-8 (Cf)", utf8("admin\u200b")],
  ["U+202E right-to-left override as UTF-8 (Cf)", utf8("user\u202egnp.exe")],
  ["U+2066 left-to-right isolate as UTF-8 (Cf)", utf8("\u2066x")],
  ["U+FEFF at the start as UTF-8 (Cf; a BOM is not stripped)", utf8("\ufeffuser")],
  ["U+061C Arabic letter mark as UTF-8 (Cf)", utf8("a\u061c")],
  ["U+E0001 language tag as UTF-8 (Cf, astral)", utf8("a\u{e0001}")],
  ["U+2028 line separator as UTF-8", utf8("a\u2028b")],
  ["U+2029 paragraph separator as UTF-8", utf8("a\u2029b")],
  ["a lone high surrogate as (WTF-8) bytes", "a\xed\xa0\x80"],
  ["a lone low surrogate as (WTF-8) bytes", "a\xed\xb0\xa0"],
  // Not from a header (Headers hold bytes), but the rule holds for any string.
  ["U+202E as a JS character", "user\u202e"],
  ["a lone surrogate as a JS character", "a\ud800"],
  ["U+2028 as a JS character", "a\u2028"],
];

const ACCEPTED: [string, string][] = [
  ["ASCII", "user_123"],
  ["ASCII with spaces and punctuation", "a b:c/d@e.f=g+h~"],
  ["é as UTF-8", utf8("José")],
  ["é as a Latin-1 byte (what fetch sends for 'José')", "José"],
  ["CJK as UTF-8 (its bytes include 0x80–0x9F)", utf8("日本語")],
  ["an emoji as UTF-8", utf8("😀")],
  ["Arabic as UTF-8", utf8("مستخدم")],
  ["a UUID", "8e0f6f8c-54b1-4d7e-9a57-2f3c1c7f0b1e"],
];

Deno.test("X-User-Id and Idempotency-Key refuse control, format and separator characters and lone surrogates, as they arrive", () => {
  for (const [name, value] of REFUSED) {
    assert.equal(isPlainText(value), false, name);
    const user = UserIdSchema.safeParse(value);
    assert.equal(user.success, false, `X-User-Id: ${name}`);
    assert.match(user.error!.issues[0].message, /^X-User-Id /, name);
    const key = IdempotencyKeySchema.safeParse(value);
    assert.equal(key.success, false, `Idempotency-Key: ${name}`);
    assert.match(key.error!.issues[0].message, /^Idempotency-Key /, name);
  }
});

Deno.test("X-User-Id keeps every id it accepted before unchanged (the id is the usage key)", () => {
  for (const [name, value] of ACCEPTED) {
    assert.equal(isPlainText(value), true, name);
    assert.deepEqual(UserIdSchema.safeParse(value), { success: true, data: value }, name);
    assert.deepEqual(IdempotencyKeySchema.safeParse(value), { success: true, data: value }, name);
  }
});

Deno.test("X-User-Id keeps its length rules: 1–256 characters as received", () => {
  assert.equal(UserIdSchema.safeParse("").success, false);
  assert.equal(UserIdSchema.safeParse("x".repeat(256)).success, true);
  assert.equal(UserIdSchema.safeParse("x".repeat(257)).success, false);
  assert.equal(IdempotencyKeySchema.safeParse("k".repeat(255)).success, true);
  assert.equal(IdempotencyKeySchema.safeParse("k".repeat(256)).success, false);
});
