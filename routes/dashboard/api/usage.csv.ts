/** GET /dashboard/api/usage.csv — every end-user of a period as CSV, streamed from KV. */
import { z } from "zod";
import { usageCsvExport } from "../../../lib/founders/analytics.ts";
import { MAX_BODY_BYTES } from "../../../lib/http/body.ts";
import { readQuery } from "../../../lib/http/query.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { UsageCsvQuerySchema } from "../../../lib/schemas/analytics.ts";

export const route = defineRoute({
  path: "/dashboard/api/usage.csv",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    GET: {
      handler: define.handler(async (c) => {
        const query = readQuery(c, UsageCsvQuerySchema);
        const { stream, filename } = await usageCsvExport(
          c.get("deps"),
          c.get("founder").userId,
          query,
        );
        return new Response(stream, {
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": `attachment; filename="${filename}"`,
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
          },
        });
      }),
      docs: {
        tag: "Founders' API",
        summary: "Every end-user of a period as CSV",
        description:
          "Streams `user_id,plan,count,limit` for every end-user counted in the period, in user-id order (RFC 4180; ids a spreadsheet would run as a formula get a leading `'`). With `feature`, the counts and limits of that metered feature.",
        query: UsageCsvQuerySchema,
        responses: {
          200: {
            description: "The CSV file.",
            contentType: "text/csv",
            schema: z.string(),
          },
        },
        errors: ["invalid_request", "subscription_required", "not_found"],
      },
    },
  },
});
