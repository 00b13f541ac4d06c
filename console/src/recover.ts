import { field, h, modal } from "./dom";
import type { Ctx } from "./context";
import { errorText, type WebhookView } from "./model";
import { defaultSinceMs, HISTORY_DAYS, localInputValue, recoveryText, type RecoveryView } from "./recovery-text";

/** What a recover dialog needs of its webhook: its `failStreak` as read before it was switched on again starts the window by default. */
export type RecoverTarget = Pick<WebhookView, "id" | "name" | "failStreak">;

type Say = (text: string, isError?: boolean) => void;

/**
 * Asks from when to re-send (by default since the streak that switched it off began), starts the
 * recovery and follows it, saying each step with `say` until it is done or stopped, or until the
 * page it speaks on is gone (`alive`). A recovery started while the dialog was dismissed is
 * followed all the same.
 */
export async function recoverDialog(ctx: Ctx, target: RecoverTarget, say: Say, alive: () => boolean): Promise<void> {
  const now = Date.now();
  await modal<void>(`Re-send what ${target.name} did not get`, (close) => {
    const since = h("input", {
      type: "datetime-local",
      required: true,
      value: localInputValue(defaultSinceMs(target.failStreak, now)),
      min: localInputValue(now - HISTORY_DAYS * 86_400_000 + 60_000),
      max: localInputValue(now),
    });
    const error = h("p", { role: "alert", class: "error" });
    const go = h("button", { type: "submit", class: "primary" }, "Re-send");
    const onsubmit = async (e: Event) => {
      e.preventDefault();
      go.disabled = true;
      error.textContent = "";
      try {
        const r = await ctx.svc.call<{ recovery: RecoveryView }>("recoverWebhook", {
          siteId: ctx.site.id,
          webhookId: target.id,
          since: new Date(since.value).toISOString(),
        });
        close();
        void follow(ctx, target.id, r.recovery, say, alive);
      } catch (err) {
        if (!go.isConnected) return say(errorText(err), true);
        error.textContent = errorText(err);
        go.disabled = false;
      }
    };
    return [
      h(
        "form",
        { onsubmit },
        h(
          "p",
          {},
          "Its failed deliveries, and the events it missed while off, are sent again oldest first, at most 5 a second. Receivers see the same event ids.",
        ),
        field("Since", since, `Your time zone; at most ${HISTORY_DAYS} days back.`),
        error,
        h("div", { class: "actions" }, go, h("button", { type: "button", onclick: () => close() }, "Cancel")),
      ),
    ];
  });
}

/** Polls the recovery every 1.5 s; a few failed polls in a row (a network blip) are tolerated. */
async function follow(ctx: Ctx, webhookId: string, first: RecoveryView, say: Say, alive: () => boolean): Promise<void> {
  let r = first;
  let misses = 0;
  say(recoveryText(r));
  while (r.status === "running" && alive()) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    try {
      r = (await ctx.svc.call<{ recovery: RecoveryView }>("getRecovery", { siteId: ctx.site.id, webhookId, recoveryId: r.id })).recovery;
      misses = 0;
    } catch (err) {
      if (++misses >= 3) return say(errorText(err), true);
      continue;
    }
    say(recoveryText(r), r.status === "stopped");
  }
}
