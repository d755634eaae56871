/** PUT /dashboard/api/tiers — replaces the platform's tiers (validated with the one tier schema). */
import { saveFounderTiers } from "../../../lib/founders/platform.ts";
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { PutTiersBodySchema } from "../../../lib/schemas/dashboard.ts";
import { TiersResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/tiers",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    PUT: {
      handler: define.handler(async (c) => {
        const { tiers } = await readJson(c, PutTiersBodySchema);
        const saved = await saveFounderTiers(c.get("deps"), c.get("founder").userId, tiers);
        return c.json({ tiers: saved.tiers });
      }),
      docs: {
        tag: "Founders' API",
        summary: "Replace your tiers",
        description:
          "Replaces your platform's tiers. The first tier with price 0 is the default for end-users without a plan. Field-level problems come back in `error.details`.",
        body: PutTiersBodySchema,
        example: {
          tiers: [
            { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
            { id: "pro", name: "Pro", price: 29, limit: 10000, period: "month" },
            { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" },
          ],
        },
        bodyRequired: true,
        responses: { 200: { description: "The tiers as saved.", schema: TiersResponseSchema } },
        errors: ["invalid_request", "subscription_required", "not_found", "unavailable"],
      },
    },
  },
});
