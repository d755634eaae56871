/** POST /dashboard/api/keys — a new API key; the previous one works `graceSeconds` longer. */
import { rotateFounderKey } from "../../../lib/founders/platform.ts";
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { RotateKeyBodySchema } from "../../../lib/schemas/dashboard.ts";
import { ApiKeyResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/keys",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const { graceSeconds } = await readJson(c, RotateKeyBodySchema);
        const { apiKey } = await rotateFounderKey(
          c.get("deps"),
          c.get("founder").userId,
          graceSeconds,
        );
        c.header("Cache-Control", "no-store");
        return c.json({ apiKey }, 201);
      }),
      docs: {
        tag: "Founders' API",
        summary: "Rotate your API key",
        description:
          "Issues a new API key. The previous key keeps working for `graceSeconds` (default 0: it stops at once), so you can deploy the new one first.",
        body: RotateKeyBodySchema,
        example: { graceSeconds: 3600 },
        responses: {
          201: { description: "The new key, shown once.", schema: ApiKeyResponseSchema },
        },
        errors: ["invalid_request", "subscription_required", "not_found"],
      },
    },
  },
});
