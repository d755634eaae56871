/**
 * The browser half of `<Island>`: finds every server-rendered instance of one island on the page
 * and hydrates it with the props the server serialized beside it. Bundled into each island's
 * module by `lib/ui/build.ts`; never imported by server code.
 */
import { type ComponentType, h, hydrate } from "preact";

/** Hydrates each `[data-island=name]` element with `Component` and its JSON props. */
// deno-lint-ignore no-explicit-any
export function hydrateAll(name: string, Component: ComponentType<any>): void {
  for (const el of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    if (el.dataset.hydrated) continue;
    el.dataset.hydrated = "true";
    const propsEl = document.getElementById(`${el.id}-props`);
    const props = propsEl?.textContent ? JSON.parse(propsEl.textContent) : {};
    hydrate(h(Component, props), el);
  }
}
