/** POST /dashboard/api/platform — creates the founder's platform; the API key is shown this once. */
import { createFounderPlatform } from "../../../lib/founders/platform.ts";
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { CreatePlatformBodySchema } from "../../../lib/schemas/dashboard.ts";
import { PlatformCreatedResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/platform",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const body = await readJson(c, CreatePlatformBodySchema);
        const created = await createFounderPlatform(
          c.get("deps"),
          c.get("founder").userId,
          body.name ?? "My platform",
        );
        c.header("Cache-Control", "no-store");
        return c.json(created, 201);
      }),
      docs: {
        tag: "Founders' API",
        summary: "Create your platform",
        description:
          "Creates your platform with the default tiers (`free`, 100 a month) and answers its API key: the only time the key is shown.",
        body: CreatePlatformBodySchema,
        example: { name: "Acme Notes" },
        responses: {
          201: {
            description: "Created; store the key now.",
            schema: PlatformCreatedResponseSchema,
          },
        },
        errors: ["invalid_request", "subscription_required", "conflict", "unavailable"],
      },
    },
  },
});
