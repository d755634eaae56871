/**
 * The local Stripe-compatible server (development and tests). See README.md in this folder.
 * @module
 */
export { type LocalStripeOptions, LocalStripeServer, startLocalStripe } from "./server.ts";
export {
  type Application,
  type CheckoutPaid,
  type Connection,
  type Delivery,
  type EventsResult,
  type Fault,
  LocalStripeClient,
  LocalStripeError,
  type SubscriptionChanged,
} from "./client.ts";
export {
  bootstrapLocalStripe,
  CONNECT_EVENTS,
  FOUNDER_SUBSCRIPTION_EVENTS,
  LOCAL_OWN_STRIPE_KEY,
  LOCAL_PRICE_LOOKUP_KEY,
  LOCAL_PRODUCT_ID,
  type LocalStripeBootstrap,
} from "./bootstrap.ts";
export { accountIdFor } from "./store.ts";
export { clientIdFor, CODE_LIFETIME_SECONDS, CONTROLLED_BY_ANOTHER_PLATFORM } from "./connect.ts";
export { API_VERSION, signatureHeader } from "./webhooks.ts";
