/** The ceiling of `deno task bench`: bare `Deno.serve` answering a constant JSON body of our size. */
import { listen, USAGE_BODY } from "./_serve.ts";

const body = JSON.stringify(USAGE_BODY);

listen(() => new Response(body, { headers: { "content-type": "application/json" } }));
