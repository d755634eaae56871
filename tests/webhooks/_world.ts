/** The world of the delivery tests: a real KV, a platform's endpoint with its secret, a logger. */
import { createSecretBox, generateEncryptionKey } from "../../lib/crypto/secrets.ts";
import { createLogger } from "../../lib/log.ts";
import { type FounderEventType, queueEvent } from "../../lib/kv/outbox.ts";
import { keys } from "../../lib/kv/keys.ts";
import { updateWebhookEndpoint, webhookSecretContext } from "../../lib/kv/webhooks.ts";
import type { SecretBox } from "../../lib/sealed.ts";
import { type DeliveryOptions, WebhookDelivery } from "../../lib/webhooks/delivery.ts";
import { generateSigningSecret } from "../../lib/webhooks/signing.ts";

export const PLATFORM = "plt_hooks";

export interface HookWorld extends AsyncDisposable {
  kv: Deno.Kv;
  secrets: SecretBox;
  /** The endpoint's signing secret (`whsec_…`). */
  secret: string;
  logs: string[];
  /** A delivery loop on this world's KV (not started); stopped on dispose. */
  delivery(options?: Partial<DeliveryOptions>): WebhookDelivery;
  /** Commits one event of `type` to the outbox; its id. */
  queue(type?: FounderEventType, data?: Record<string, unknown>): Promise<string>;
  /** Outbox records left. */
  outboxSize(): Promise<number>;
}

/** A world whose platform's endpoint is `url` (subscribed to `events`, default all). */
export async function hookWorld(
  url: string,
  options: { kvPath?: string; events?: FounderEventType[]; masterKey?: string } = {},
): Promise<HookWorld> {
  const kv = await Deno.openKv(options.kvPath ?? ":memory:");
  const secrets = await createSecretBox(options.masterKey ?? generateEncryptionKey());
  const secret = generateSigningSecret();
  const now = new Date().toISOString();
  const sealed = await secrets.seal(secret, webhookSecretContext(PLATFORM));
  await updateWebhookEndpoint(kv, PLATFORM, () => ({
    platformId: PLATFORM,
    url,
    events: options.events ??
      ["usage.near_limit", "usage.limit_reached", "subscription.updated"],
    secret: sealed,
    createdAt: now,
    updatedAt: now,
    rotatedAt: null,
  }));
  const logs: string[] = [];
  const log = createLogger({ min: "debug", write: (line) => logs.push(line) });
  const loops: WebhookDelivery[] = [];
  return {
    kv,
    secrets,
    secret,
    logs,
    delivery(over = {}) {
      const loop = new WebhookDelivery({
        kv,
        secrets,
        log,
        production: false,
        pollMs: 50,
        ...over,
      });
      loops.push(loop);
      return loop;
    },
    async queue(type = "usage.limit_reached", data = { userId: "u1" }) {
      const op = kv.atomic();
      const id = queueEvent(op, PLATFORM, {
        type,
        timestamp: new Date().toISOString(),
        data: { platformId: PLATFORM, ...data },
      }, Date.now());
      await op.commit();
      return id;
    },
    async outboxSize() {
      let n = 0;
      for await (const _ of kv.list({ prefix: keys.outboxDueAll() })) n++;
      return n;
    },
    async [Symbol.asyncDispose]() {
      for (const loop of loops) await loop.stop();
      kv.close();
    },
  };
}
