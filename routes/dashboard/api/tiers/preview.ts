/** POST /dashboard/api/tiers/preview — how edited limits would meet this period's real usage. */
import { define } from "../../../../lib/define.ts";
import { tierPreview } from "../../../../lib/founders/analytics.ts";
import { readJson } from "../../../../lib/http/body.ts";
import { PreviewTiersBodySchema } from "../../../../lib/schemas/analytics.ts";

export const POST = define.handler(async (c) => {
  const { tiers } = await readJson(c, PreviewTiersBodySchema);
  return c.json(await tierPreview(c.get("deps"), c.get("founder").userId, tiers));
});
