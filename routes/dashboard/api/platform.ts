/** POST /dashboard/api/platform — creates the founder's platform; the API key is shown this once. */
import { define } from "../../../lib/define.ts";
import { createFounderPlatform } from "../../../lib/founders/platform.ts";
import { readJson } from "../../../lib/http/body.ts";
import { CreatePlatformBodySchema } from "../../../lib/schemas/dashboard.ts";

export const POST = define.handler(async (c) => {
  const body = await readJson(c, CreatePlatformBodySchema);
  const created = await createFounderPlatform(
    c.get("deps"),
    c.get("founder").userId,
    body.name ?? "My platform",
  );
  c.header("Cache-Control", "no-store");
  return c.json(created, 201);
});
