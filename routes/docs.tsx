/** GET /docs — the API reference, server-rendered from the OpenAPI document (no third-party script). */
import { define, defineRoute } from "../lib/http/route.ts";
import { ApiReference } from "../lib/ui/api_reference.tsx";
import { assetUrl } from "../lib/ui/assets.ts";
import { Shell } from "../lib/ui/layout.tsx";
import { renderPage } from "../lib/ui/render.tsx";

const GET = define.handler(async (c) => {
  const { publicUrl } = c.get("deps").config;
  const docsCss = await assetUrl("docs.css");
  return renderPage(
    c,
    <Shell
      title="API reference"
      description="dream-api's tenant API and founders' API: every call, header, body and error code."
      width="wide"
    >
      {/* The reference's own layout; the site's styles.css stays the one shared sheet. */}
      <link rel="stylesheet" href={docsCss} />
      <ApiReference doc={c.get("openapi").document(publicUrl)} baseUrl={publicUrl} />
    </Shell>,
    { cache: "public" },
  );
});

export const route = defineRoute({
  path: "/docs",
  auth: "public",
  methods: { GET: { handler: GET } },
});
