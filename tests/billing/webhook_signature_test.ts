/**
 * The pure parts of both webhooks: reading `Stripe-Signature` (form, the ±300 s window) without
 * the body, the HMAC over raw bytes, the event's shape, and how Stripe's failures are sorted.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { classifyStripeFailure } from "../../lib/billing/stripe_refetch.ts";
import { webhookCrypto } from "../../lib/billing/stripe_client.ts";
import {
  hasValidSignature,
  parseSignatureHeader,
  parseVerifiedEvent,
  SIGNATURE_TOLERANCE_SECONDS,
} from "../../lib/billing/webhook_signature.ts";
import { ApiError } from "../../lib/errors.ts";

const NOW = 1_800_000_000;
const SECRET = "whsec_test_signature_unit_0001";
const bytes = (s: string) => new TextEncoder().encode(s);

function refusedWith(fn: () => unknown, message: RegExp) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.code, "invalid_request");
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("parseSignatureHeader refuses a missing, oversized or malformed header before any body work", () => {
  const mac = "a".repeat(64);
  refusedWith(() => parseSignatureHeader(undefined, NOW), /Missing Stripe-Signature/);
  refusedWith(() => parseSignatureHeader("", NOW), /Missing Stripe-Signature/);
  refusedWith(
    () => parseSignatureHeader(`t=${NOW},v1=${mac},${"x".repeat(1100)}`, NOW),
    /too long/,
  );
  for (
    const header of [
      "nonsense",
      `v1=${mac}`,
      `t=${NOW}`,
      `t=${NOW},v0=${mac}`,
      `t=${NOW},v1=${mac.slice(1)}`,
      `t=${NOW},v1=${"g".repeat(64)}`,
      `t=-5,v1=${mac}`,
      `t=1e9,v1=${mac}`,
      `t=${"9".repeat(20)},v1=${mac}`,
    ]
  ) {
    refusedWith(() => parseSignatureHeader(header, NOW), /t=<timestamp>,v1=<signature>/);
  }
});

Deno.test("parseSignatureHeader accepts timestamps within 300 s either way and refuses 301 s either way", () => {
  const mac = "b".repeat(64);
  assert.equal(SIGNATURE_TOLERANCE_SECONDS, 300);
  for (const offset of [-300, -1, 0, 1, 300]) {
    assert.equal(parseSignatureHeader(`t=${NOW + offset},v1=${mac}`, NOW).timestamp, NOW + offset);
  }
  for (const offset of [-301, 301, -86_400, 86_400 * 365]) {
    refusedWith(() => parseSignatureHeader(`t=${NOW + offset},v1=${mac}`, NOW), /300 s/);
  }
});

Deno.test("hasValidSignature checks Stripe's HMAC over the raw bytes, any of several v1 (a secret being rolled)", async () => {
  const payload = '{"id":"evt_1","type":"x","created":1,"data":{"object":{}},"note":"é"}';
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: SECRET,
    timestamp: NOW,
    cryptoProvider: webhookCrypto,
  });
  const parsed = parseSignatureHeader(header, NOW);
  assert.equal(hasValidSignature(bytes(payload), parsed, SECRET), true);
  assert.equal(hasValidSignature(bytes(payload + " "), parsed, SECRET), false);
  assert.equal(hasValidSignature(bytes(payload), parsed, `${SECRET}x`), false);
  // Stripe signs with the old and the new secret while one is rolled: either verifies.
  const other = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: "whsec_the_old_one",
    timestamp: NOW,
    cryptoProvider: webhookCrypto,
  });
  const both = parseSignatureHeader(`${header},${other.split(",")[1]}`, NOW);
  assert.equal(both.signatures.length, 2);
  assert.equal(hasValidSignature(bytes(payload), both, SECRET), true);
  assert.equal(hasValidSignature(bytes(payload), both, "whsec_the_old_one"), true);
  // The timestamp is signed: the same MAC under another t does not verify.
  const moved = parseSignatureHeader(header.replace(`t=${NOW}`, `t=${NOW + 1}`), NOW);
  assert.equal(hasValidSignature(bytes(payload), moved, SECRET), false);
});

Deno.test("parseVerifiedEvent refuses invalid UTF-8 and what is not an event with 400, and lets a null data.object through", () => {
  refusedWith(() => parseVerifiedEvent(new Uint8Array([0x7b, 0xff, 0x7d])), /UTF-8 JSON/);
  refusedWith(() => parseVerifiedEvent(bytes("{")), /UTF-8 JSON/);
  refusedWith(() => parseVerifiedEvent(bytes("[1]")), /not a JSON object/);
  refusedWith(
    () => parseVerifiedEvent(bytes('{"id":"e","type":"t","created":1.5,"data":{}}')),
    /"created"/,
  );
  const event = parseVerifiedEvent(
    bytes('{"id":"evt_1","type":"invoice.paid","created":1,"data":{"object":null}}'),
  );
  assert.equal(event.id, "evt_1");
  assert.equal(event.data.object, null);
});

Deno.test("classifyStripeFailure: unreachable, 5xx, 429, 409 and 401 are retried; 404/resource_missing is missing; 403 is forbidden; the rest is a bug", () => {
  const raw = (statusCode: number, extra: Record<string, unknown> = {}) => ({
    message: "x",
    statusCode,
    ...extra,
  });
  const cases: [unknown, string][] = [
    [new Stripe.errors.StripeConnectionError({ message: "ECONNREFUSED" }), "retry"],
    [new Stripe.errors.StripeAPIError(raw(500)), "retry"],
    [new Stripe.errors.StripeAPIError(raw(502)), "retry"],
    [new Stripe.errors.StripeAPIError(raw(503)), "retry"],
    [new Stripe.errors.StripeRateLimitError(raw(429, { code: "rate_limit" })), "retry"],
    [new Stripe.errors.StripeInvalidRequestError(raw(409, { code: "lock_timeout" })), "retry"],
    [new Stripe.errors.StripeAuthenticationError(raw(401)), "retry"],
    [
      new Stripe.errors.StripeInvalidRequestError(raw(404, { code: "resource_missing" })),
      "missing",
    ],
    [
      new Stripe.errors.StripeInvalidRequestError(raw(400, { code: "resource_missing" })),
      "missing",
    ],
    [new Stripe.errors.StripePermissionError(raw(403)), "forbidden"],
    [
      new Stripe.errors.StripeInvalidRequestError(raw(400, { code: "parameter_invalid" })),
      "unexpected",
    ],
    [new TypeError("a bug of ours"), "unexpected"],
    [null, "unexpected"],
  ];
  for (const [error, kind] of cases) {
    assert.equal(classifyStripeFailure(error), kind, String((error as Error)?.constructor?.name));
  }
});
