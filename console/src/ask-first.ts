import { h, modal } from "./dom";
import type { Ctx } from "./context";

/**
 * Embedded in another site's page, a one-click action could be clickjacked (the framing page
 * lays the console under its own button): there it asks in a dialog first. Standalone, where
 * only the console's own origin may frame it, it does not.
 */
export async function askFirst(ctx: Ctx, question: string, yes: string, run: () => Promise<unknown>): Promise<void> {
  if ((ctx.embedded || framed()) && !(await confirmed(question, yes))) return;
  await run();
}

/** Shown inside any frame, whatever path Hosting matched for its headers: it asks first there too. */
function framed(): boolean {
  try {
    return window.self !== window.top;
  } catch {
    return true;
  }
}

async function confirmed(question: string, yes: string): Promise<boolean> {
  const sure = await modal<boolean>(question, (close) => [
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => close(true) }, yes),
      h("button", { type: "button", onclick: () => close(false), autofocus: true }, "Cancel"),
    ),
  ]);
  return sure === true;
}
