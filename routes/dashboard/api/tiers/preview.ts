/** POST /dashboard/api/tiers/preview — how edited limits would meet this period's real usage. */
import { tierPreview } from "../../../../lib/founders/analytics.ts";
import { MAX_BODY_BYTES, readJson } from "../../../../lib/http/body.ts";
import { define, defineRoute } from "../../../../lib/http/route.ts";
import { readQuery } from "../../../../lib/http/query.ts";
import {
  PreviewTiersBodySchema,
  PreviewTiersQuerySchema,
  TierPreviewResponseSchema,
} from "../../../../lib/schemas/analytics.ts";

export const route = defineRoute({
  path: "/dashboard/api/tiers/preview",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const { feature } = readQuery(c, PreviewTiersQuerySchema);
        const { tiers } = await readJson(c, PreviewTiersBodySchema);
        return c.json(await tierPreview(c.get("deps"), c.get("founder").userId, tiers, feature));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Preview the impact of edited tiers",
        description:
          "For each tier as edited (validated like `PUT /dashboard/api/tiers`, nothing is saved): how many of its end-users this period (this month, or today for a daily tier) are already above its limit, and how many are at 90–100% of it. With `feature`, the same of that metered feature (each tier's limit and period of it; a feature none of the tiers sent meters is 400). Usage is read at most 15 s before `asOf`.",
        query: PreviewTiersQuerySchema,
        body: PreviewTiersBodySchema,
        example: {
          tiers: [
            { id: "free", name: "Free", price: 0, limit: 50, period: "month" },
            { id: "pro", name: "Pro", price: 29, limit: 5000, period: "month" },
          ],
        },
        bodyRequired: true,
        responses: {
          200: { description: "Each tier's impact.", schema: TierPreviewResponseSchema },
        },
        errors: ["invalid_request", "subscription_required", "not_found"],
      },
    },
  },
});
