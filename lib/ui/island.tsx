/**
 * `<Island>`: renders an island on the server (so the page works before any JavaScript) and
 * ships its props beside it as JSON, plus the island's module, which hydrates it in place.
 */
import { type ComponentType, createContext } from "preact";
import { useContext } from "preact/hooks";
import type { IslandManifest } from "./build.ts";

/** What a page render knows about its assets; provided by `renderPage`. */
export interface RenderContext {
  manifest: IslandManifest;
  stylesHref: string;
  /** Set when founders sign in with Clerk (its browser script signs out too). */
  clerkPublishableKey?: string;
  /** Counter for island element ids, unique within one page. */
  ids: { next: number };
}

export const RenderCtx = createContext<RenderContext | null>(null);

/** Serializes props for a `<script type="application/json">`: no `</script>` breakout. */
export function serializeProps(props: unknown): string {
  return JSON.stringify(props ?? {})
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/**
 * Renders `component` with `props` now and hydrates it in the browser. `name` is the island's
 * file name in `islands/`; `props` must survive `JSON.stringify`.
 * @example <Island name="CopyButton" component={CopyButton} props={{ text: "plt_…" }} />
 */
export function Island<P extends object>(
  { name, component: Component, props }: {
    name: string;
    component: ComponentType<P>;
    props: NoInfer<P>;
  },
) {
  const ctx = useContext(RenderCtx);
  if (!ctx) throw new Error("<Island> rendered outside renderPage()");
  const src = ctx.manifest.islands[name];
  if (!src) {
    throw new Error(
      `Island '${name}' is not built: run \`deno task build\` (islands/${name}.tsx).`,
    );
  }
  const id = `island-${name}-${ctx.ids.next++}`;
  return (
    <>
      <div class="island" data-island={name} id={id}>
        <Component {...props} />
      </div>
      <script
        type="application/json"
        id={`${id}-props`}
        dangerouslySetInnerHTML={{ __html: serializeProps(props) }}
      />
      {/* One module per island; the browser runs it once however many instances a page has. */}
      <script type="module" src={src} />
    </>
  );
}
