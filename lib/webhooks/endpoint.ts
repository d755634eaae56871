/**
 * The founders' side of webhooks: their one endpoint (set, read, delete), its signing secret
 * (shown once when created and when rotated, sealed at rest), a test event through the outbox,
 * and the deliveries log with a health summary.
 */
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { requirePlatformId } from "../founders/platform.ts";
import { queueEvent } from "../kv/outbox.ts";
import {
  deleteWebhookEndpoint,
  type DeliveryLogEntry,
  getWebhookEndpoint,
  listDeliveries,
  updateWebhookEndpoint,
  type WebhookEndpoint,
  webhookSecretContext,
} from "../kv/webhooks.ts";
import {
  SUBSCRIBABLE_EVENT_TYPES,
  type WebhookConfigResponse,
  type WebhookEndpointView,
  type WebhookHealth,
  type WebhookSavedResponse,
} from "../schemas/webhooks.ts";
import { generateSigningSecret } from "./signing.ts";
import { checkWebhookUrl } from "./url_policy.ts";

type EndpointDeps = Pick<
  Deps,
  "kv" | "secrets" | "config" | "now" | "webhooks" | "resolveHost" | "log"
>;

/** Attempts in a row that make the dashboard warn that the endpoint keeps failing. */
export const FAILING_AFTER = 5;

/** The endpoint (or `null`), its health and the newest 100 attempts. */
export async function readWebhookConfig(
  deps: EndpointDeps,
  userId: string,
): Promise<WebhookConfigResponse> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const [endpoint, deliveries] = await Promise.all([
    getWebhookEndpoint(deps.kv, platformId),
    listDeliveries(deps.kv, platformId),
  ]);
  return {
    endpoint: endpoint && viewOf(endpoint),
    health: healthOf(deliveries),
    deliveries,
  };
}

/**
 * Sets the URL and events. A new endpoint gets a signing secret, returned this once; changing an
 * existing one keeps its secret (not returned). The URL must pass the deployment's rules now
 * (production: https, public addresses only), and is checked again before every attempt.
 */
export async function saveWebhookEndpoint(
  deps: EndpointDeps,
  userId: string,
  input: { url: string; events?: readonly (typeof SUBSCRIBABLE_EVENT_TYPES)[number][] },
): Promise<{ created: boolean; body: WebhookSavedResponse }> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const verdict = await checkWebhookUrl(input.url, {
    production: deps.config.appEnv === "production",
    resolve: deps.resolveHost,
  });
  if (!verdict.ok) throw new ApiError("invalid_request", `url: ${verdict.reason}.`);
  const events = SUBSCRIBABLE_EVENT_TYPES.filter((t) => (input.events ?? [t]).includes(t));
  const now = deps.now().toISOString();
  let secret: string | undefined;
  const { after } = await updateWebhookEndpoint(deps.kv, platformId, async (current) => {
    secret = undefined;
    if (current) return { ...current, url: verdict.url.href, events, updatedAt: now };
    secret = generateSigningSecret();
    return {
      platformId,
      url: verdict.url.href,
      events,
      secret: await deps.secrets.seal(secret, webhookSecretContext(platformId)),
      createdAt: now,
      updatedAt: now,
      rotatedAt: null,
    };
  });
  const body: WebhookSavedResponse = { endpoint: viewOf(after) };
  // Set only by the attempt that committed a new endpoint: the secret is shown to its creator only.
  if (secret) body.secret = secret;
  return { created: body.secret !== undefined, body };
}

/** A new signing secret, returned this once; the old one stops signing at once. 404 without an endpoint. */
export async function rotateWebhookSecret(
  deps: EndpointDeps,
  userId: string,
): Promise<WebhookSavedResponse> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const secret = generateSigningSecret();
  const sealed = await deps.secrets.seal(secret, webhookSecretContext(platformId));
  const now = deps.now().toISOString();
  const { after } = await updateWebhookEndpoint(deps.kv, platformId, (current) => {
    if (!current) throw noEndpoint();
    return { ...current, secret: sealed, rotatedAt: now };
  });
  return { endpoint: viewOf(after), secret };
}

/** Removes the endpoint: queued events for it are dropped when they come due. */
export async function removeWebhookEndpoint(
  deps: EndpointDeps,
  userId: string,
): Promise<{ deleted: boolean }> {
  const platformId = await requirePlatformId(deps.kv, userId);
  return { deleted: await deleteWebhookEndpoint(deps.kv, platformId) };
}

/** Queues a `webhook.test` event through the outbox, like any other event. 404 without an endpoint. */
export async function queueTestEvent(
  deps: EndpointDeps,
  userId: string,
): Promise<{ eventId: string }> {
  const platformId = await requirePlatformId(deps.kv, userId);
  if (!await getWebhookEndpoint(deps.kv, platformId)) throw noEndpoint();
  const now = deps.now();
  const op = deps.kv.atomic();
  const eventId = queueEvent(op, platformId, {
    type: "webhook.test",
    timestamp: now.toISOString(),
    data: { platformId, message: "A test event from the dream-api dashboard." },
  }, now.getTime());
  await op.commit();
  deps.webhooks?.wake();
  return { eventId };
}

/** The health of an endpoint from its newest attempts (newest first). */
export function healthOf(deliveries: readonly DeliveryLogEntry[]): WebhookHealth {
  const lastDelivered = deliveries.find((d) => d.status === "delivered");
  let consecutiveFailures = 0;
  for (const d of deliveries) {
    if (d.status === "delivered") break;
    consecutiveFailures++;
  }
  return {
    lastDeliveredAt: lastDelivered?.at ?? null,
    consecutiveFailures,
    failing: consecutiveFailures >= FAILING_AFTER,
  };
}

function viewOf(endpoint: WebhookEndpoint): WebhookEndpointView {
  return {
    url: endpoint.url,
    events: endpoint.events.filter((t): t is (typeof SUBSCRIBABLE_EVENT_TYPES)[number] =>
      (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(t)
    ),
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    rotatedAt: endpoint.rotatedAt,
  };
}

function noEndpoint(): ApiError {
  return new ApiError("not_found", "No webhook endpoint yet: PUT /dashboard/api/webhooks first.");
}
