/**
 * The floor of `deno task bench`: the work any server honouring the tenant API's contract does
 * per request before it counts anything, on bare `Deno.serve` with no KV and no framework. It
 * reads the headers the contract names, takes the SHA-256 of the API key (keys are stored and
 * looked up only as hashes), takes the POST body (`amount` may be in it) and answers the usage
 * JSON with its `RateLimit-*` headers.
 *
 * bare ÷ floor is what the contract itself costs; floor ÷ dream-api is what counting costs.
 */
import { createHash } from "node:crypto";
import { listen, USAGE_BODY } from "./_serve.ts";

listen(async (req) => {
  const key = req.headers.get("authorization") ?? "";
  const user = req.headers.get("x-user-id") ?? "";
  req.headers.get("x-user-plan");
  req.headers.get("idempotency-key");
  const hash = createHash("sha256").update(key).digest("hex");
  const text = req.body ? await req.text() : "";
  const headers = {
    "content-type": "application/json",
    "RateLimit-Reset": String(1 + (hash.length + user.length + text.length) % 2),
  };
  return new Response(JSON.stringify(USAGE_BODY), { headers });
});
