/** Verifying Stripe webhook deliveries: one function for every webhook URL of dream-api. */
import Stripe from "stripe";
import { ApiError } from "../errors.ts";
import { webhookCrypto } from "./stripe_client.ts";

/** Stripe's default (and our) tolerance between the signed timestamp and now, in seconds. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * The event in `rawBody` when `header` is a valid `Stripe-Signature` for it under `secret`
 * (HMAC-SHA256 of `t.body`, within 300 s); otherwise 400 `invalid_request`.
 * @example const event = await verifyStripeEvent(await c.req.text(), c.req.header("stripe-signature"), secret)
 */
export async function verifyStripeEvent(
  rawBody: string,
  header: string | undefined,
  secret: string,
): Promise<Stripe.Event> {
  if (!header) throw new ApiError("invalid_request", "Missing Stripe-Signature header.");
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(
      rawBody,
      header,
      secret,
      SIGNATURE_TOLERANCE_SECONDS,
      webhookCrypto,
    );
  } catch {
    throw new ApiError("invalid_request", "Invalid Stripe-Signature for this payload.");
  }
  if (
    typeof event !== "object" || event === null || typeof event.id !== "string" ||
    typeof event.type !== "string" || typeof event.data?.object !== "object"
  ) {
    throw new ApiError("invalid_request", "The payload is not a Stripe event.");
  }
  return event;
}
