/** GET /dashboard/api/me — the signed-in founder's subscription, platform and Stripe connection. */
import { loadFounderView } from "../../../lib/founders/me.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { MeResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/me",
  auth: "founder",
  methods: {
    GET: {
      handler: define.handler(async (c) => {
        return c.json(await loadFounderView(c.get("deps"), c.get("founder")));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Your account, platform and Stripe connection",
        description:
          "Your dream-api subscription, your platform (id, key prefix, tiers) and Stripe connection. Never contains a secret.",
        responses: { 200: { description: "The signed-in founder.", schema: MeResponseSchema } },
      },
    },
  },
});
