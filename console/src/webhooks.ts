// The site's webhooks (live), and the create / edit form with the secret shown once.
import { collection, limit, onSnapshot, orderBy, query, type FirestoreError, type Query, type QuerySnapshot } from "firebase/firestore";
import { badge, field, fill, h, modal, type Child } from "./dom";
import { webhookHref, type Cleanup, type Ctx } from "./context";
import { askFirst } from "./ask-first";
import { recoverDialog } from "./recover";
import {
  AUTO_DISABLE_AFTER,
  FORMATS,
  HTTP_METHODS,
  SIGNATURE_SCHEMES,
  SUBSCRIBABLE_EVENT_TYPES,
  checkedByDefault,
  disabledNotice,
  failingNotice,
  errorText,
  parseHeaderLines,
  relativeTime,
  statusText,
  statusTone,
  webhookState,
  deliveryView,
  webhookView,
  type WebhookView,
} from "./model";

/**
 * A live list that starts with the server's answer. A query's first snapshot can come from the
 * local cache alone, holding only the docs other listeners brought in (the newest delivery's, say):
 * shown, it would pass for the whole list (one delivery, "1 succeeded") until the server answers.
 */
export function onServerSnapshot(q: Query, next: (snap: QuerySnapshot) => void, error: (err: FirestoreError) => void): Cleanup {
  let synced = false;
  return onSnapshot(
    q,
    { includeMetadataChanges: true },
    (snap) => {
      if (!synced && snap.metadata.fromCache) return;
      // After the first server answer, only changes of the docs themselves.
      if (synced && snap.docChanges().length === 0) return;
      synced = true;
      next(snap);
    },
    error,
  );
}

/**
 * The time of a webhook's newest delivery, live (`lastDeliveryAt` on the doc moves only with
 * `lastStatus` / `failCount`: the data contract's hot-document rule).
 */
export function watchNewestDelivery(ctx: Ctx, webhookId: string, onChange: (atMs: number | null) => void): Cleanup {
  const q = query(collection(ctx.svc.db, "sites", ctx.site.id, "webhooks", webhookId, "deliveries"), orderBy("createdAt", "desc"), limit(1));
  return onSnapshot(
    q,
    (snap) => {
      const d = snap.docs[0];
      onChange(d ? deliveryView(d.id, d.data()).createdAtMs : null);
    },
    () => onChange(null),
  );
}

export function failMeter(w: WebhookView): HTMLElement {
  return h(
    "span",
    { class: "meter" },
    h("meter", { min: 0, max: AUTO_DISABLE_AFTER, low: 3, high: 7, optimum: 0, value: w.failCount, "aria-label": "consecutive failures" }),
    ` ${w.failCount} / ${AUTO_DISABLE_AFTER} failures`,
  );
}

/**
 * One notice per webhook the pipeline switched off by itself, above the list; an admin enables
 * it again from there in one click (the failure count starts again at 0), then is offered to
 * re-send what it missed since its failures began (recover.ts).
 */
function disabledNotices(ctx: Ctx, hooks: WebhookView[]): HTMLElement[] {
  return hooks.flatMap((w) => {
    const failing = failingNotice(w);
    if (failing) return [h("p", { class: "notice", role: "alert", "data-failing-notice": w.id }, failing)];
    const text = disabledNotice(w);
    if (!text) return [];
    const status = h("span", { class: "hint" });
    const enable = ctx.admin
      ? h(
          "button",
          {
            type: "button",
            onclick: (e: Event) => {
              const b = e.currentTarget as HTMLButtonElement;
              // Framed or embedded, it asks first, as every action does (ask-first.ts).
              void askFirst(ctx, `Enable ${w.name}?`, "Enable", async () => {
                b.disabled = true;
                const enabled = await ctx.svc.call("enableWebhook", { siteId: ctx.site.id, webhookId: w.id }).then(
                  () => true,
                  (err: unknown) => {
                    b.disabled = false;
                    status.textContent = ` ${errorText(err)}`;
                    return false;
                  },
                );
                // The notice leaves the list once the webhook is on: what the recovery does is said above the list.
                if (enabled)
                  await recoverDialog(
                    ctx,
                    w,
                    (text, isError) => sayAboveList(w, text, isError),
                    () => document.querySelector(".notices") !== null,
                  );
              });
            },
          },
          `Enable ${w.name}`,
        )
      : null;
    return [h("p", { class: "notice", role: "alert", "data-disabled-notice": w.id }, text, " ", enable, status)];
  });
}

/** A recovery started from a notice, said in its own line above the list (the notice itself is gone by then). */
function sayAboveList(w: WebhookView, text: string, isError = false): void {
  const id = `recovery-${w.id}`;
  let line = document.getElementById(id);
  if (!line) {
    line = h("p", { id, role: "status", class: "status", "data-recovery": w.id });
    document.querySelector(".notices")?.after(line);
  }
  line.textContent = `${w.name}: ${text}`;
  line.classList.toggle("error", isError);
}

export function sitePage(main: HTMLElement, ctx: Ctx): Cleanup {
  const notices = h("div", { class: "notices" });
  const list = h("div", { class: "list", "aria-busy": "true" }, "Loading webhooks…");
  const newButton = ctx.admin ? h("button", { type: "button", class: "primary", onclick: () => void createWebhook(ctx) }, "New webhook") : null;
  fill(
    main,
    h(
      "section",
      {},
      h("div", { class: "heading" }, h("h1", {}, `Webhooks · ${ctx.site.name}`), newButton),
      ctx.admin ? null : h("p", { class: "hint" }, "Read-only: site admins change webhooks."),
      notices,
      list,
    ),
  );
  const newest = new Map<string, number | null>();
  const watchers = new Map<string, Cleanup>();
  const showNewest = (id: string) => {
    const el = list.querySelector(`[data-last-delivery="${CSS.escape(id)}"]`);
    if (el) el.textContent = relativeTime(newest.get(id) ?? null, Date.now());
  };
  const unsubscribe = onServerSnapshot(
    collection(ctx.svc.db, "sites", ctx.site.id, "webhooks"),
    (snap) => {
      list.removeAttribute("aria-busy");
      const hooks = snap.docs
        .map((d) => webhookView(d.id, d.data()))
        .filter((w) => !w.deleted)
        .sort((a, b) => (a.createdAtMs ?? 0) - (b.createdAtMs ?? 0));
      for (const w of hooks) {
        if (!watchers.has(w.id))
          watchers.set(
            w.id,
            watchNewestDelivery(ctx, w.id, (atMs) => {
              newest.set(w.id, atMs);
              showNewest(w.id);
            }),
          );
      }
      fill(notices, disabledNotices(ctx, hooks));
      if (hooks.length === 0) {
        fill(list, h("p", { class: "card" }, "No webhooks yet.", ctx.admin ? " Create one to receive events from this site's machines." : ""));
        return;
      }
      const now = Date.now();
      fill(
        list,
        hooks.map((w) => {
          const state = webhookState(w);
          return h(
            "article",
            { class: "card webhook", "data-webhook": w.id },
            h("h2", {}, h("a", { href: webhookHref(ctx.site.id, w.id) }, w.name), " ", badge(state.label, state.tone, state.detail)),
            h("p", { class: "url" }, h("code", {}, w.url)),
            h("p", { class: "events" }, w.events.join(", ") || "no events"),
            h(
              "p",
              { class: "facts" },
              failMeter(w),
              h("span", {}, "last status ", badge(statusText(w.lastStatus), statusTone(w.lastStatus))),
              h("span", {}, "last delivery ", h("span", { "data-last-delivery": w.id }, relativeTime(newest.get(w.id) ?? null, now))),
            ),
          );
        }),
      );
    },
    (err) => fill(list, h("p", { role: "alert", class: "error" }, noAccess(err))),
  );
  return () => {
    unsubscribe();
    watchers.forEach((stop) => stop());
  };
}

/** A read refused by the rules, in words. */
export function noAccess(err: unknown): string {
  return (err as { code?: string }).code === "permission-denied" ? "You have no access to this site." : errorText(err);
}

/** The secret, shown this once, with a copy button. */
export async function showSecret(secret: string, what: string): Promise<void> {
  await modal<void>("Signing secret", (close) => {
    const value = h("input", { type: "text", readonly: true, value: secret, class: "secret", spellcheck: "false", "aria-describedby": "secret-note" });
    const copied = h("span", { role: "status", class: "hint" });
    return [
      h("p", { id: "secret-note" }, `${what} Copy it now: it is shown only this once. Receivers verify each delivery's signature with it.`),
      field("Secret", value),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              value.select();
              try {
                await navigator.clipboard.writeText(secret);
                copied.textContent = "Copied.";
              } catch {
                copied.textContent = "Selected: press Ctrl+C to copy.";
              }
            },
          },
          "Copy",
        ),
        h("button", { type: "button", class: "primary", onclick: () => close() }, "Done"),
        copied,
      ),
    ];
  });
}

interface FormValues {
  name: string;
  url: string;
  description: string;
  events: string[];
  signatureScheme: string;
  method: string;
  format: string;
  headers?: Record<string, string>;
  routingKey?: string;
}

/** The form's inputs, filled from `current` when editing. */
function formInputs(current: WebhookView | null) {
  const select = (nameAttr: string, options: readonly string[], value: string) =>
    h(
      "select",
      { name: nameAttr },
      options.map((o) => h("option", { value: o, selected: o === value }, o)),
    );
  return {
    name: h("input", { type: "text", name: "name", required: true, maxlength: 100, value: current?.name ?? "" }),
    url: h("input", {
      type: "url",
      name: "url",
      required: !current,
      placeholder: current ? "unchanged" : "https://example.com/webhooks/owlette",
      value: current && !current.url.endsWith("…") ? current.url : "",
    }),
    description: h("input", { type: "text", name: "description", maxlength: 500, value: current?.description ?? "" }),
    events: SUBSCRIBABLE_EVENT_TYPES.map((t) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "events", value: t, checked: current ? current.events.includes(t) : checkedByDefault(t) }),
        t,
      ),
    ),
    scheme: select("signatureScheme", SIGNATURE_SCHEMES, current?.signatureScheme ?? "owlette"),
    method: select("method", HTTP_METHODS, current?.method ?? "POST"),
    format: select("format", FORMATS, current?.format ?? "owlette"),
    headers: h("textarea", {
      name: "headers",
      rows: 2,
      placeholder: current?.headerNames.length ? `${current.headerNames.join(", ")}: unchanged` : "Authorization: Bearer …",
    }),
    routingKey: h("input", { type: "password", name: "routingKey", autocomplete: "off", placeholder: current ? "unchanged" : "" }),
  };
}

type FormInputs = ReturnType<typeof formInputs>;

/** What the inputs say, or the problem to show instead of submitting. */
function formValues(inputs: FormInputs): { values: FormValues } | { problem: string } {
  const chosen = inputs.events
    .map((l) => l.querySelector("input") as HTMLInputElement)
    .filter((i) => i.checked)
    .map((i) => i.value);
  const parsed = parseHeaderLines(inputs.headers.value);
  if (chosen.length === 0) return { problem: "Choose at least one event." };
  if (parsed.problems.length > 0) return { problem: `Headers: ${parsed.problems.join("; ")}` };
  const { name, url, description, scheme, method, format, headers, routingKey } = inputs;
  return {
    values: {
      name: name.value.trim(),
      url: url.value.trim(),
      description: description.value.trim(),
      events: chosen,
      signatureScheme: scheme.value,
      method: method.value,
      format: format.value,
      ...(headers.value.trim() ? { headers: parsed.headers } : {}),
      ...(format.value === "pagerduty" && routingKey.value ? { routingKey: routingKey.value } : {}),
    },
  };
}

/** The create / edit form. `current`: edit that webhook (blank header and routing key fields keep what is stored). */
function webhookForm(title: string, current: WebhookView | null, submit: (values: FormValues) => Promise<void>): Promise<void> {
  return modal<void>(title, (close) => {
    const inputs = formInputs(current);
    const routingField = field("PagerDuty routing key", inputs.routingKey);
    const showRouting = () => (routingField.hidden = inputs.format.value !== "pagerduty");
    inputs.format.addEventListener("change", showRouting);
    showRouting();
    const error = h("p", { role: "alert", class: "error" });
    const save = h("button", { type: "submit", class: "primary" }, current ? "Save" : "Create");
    const onsubmit = async (e: Event) => {
      e.preventDefault();
      const read = formValues(inputs);
      if ("problem" in read) return void (error.textContent = read.problem);
      save.disabled = true;
      error.textContent = "";
      try {
        await submit(read.values);
        close();
      } catch (err) {
        error.textContent = errorText(err);
        save.disabled = false;
      }
    };
    const form = h(
      "form",
      { onsubmit },
      field("Name", inputs.name),
      field(
        "URL",
        inputs.url,
        current?.url.endsWith("…") ? "Stored as a credential and shown redacted: leave blank to keep it." : "HTTPS; the receiver must answer within 10 s.",
      ),
      field("Description", inputs.description),
      h("fieldset", {}, h("legend", {}, "Events"), inputs.events),
      h("div", { class: "row" }, field("Signature scheme", inputs.scheme), field("Method", inputs.method), field("Format", inputs.format)),
      field("Custom headers", inputs.headers, "One “Name: value” per line; values are kept server-side and never shown again."),
      routingField,
      error,
      h("div", { class: "actions" }, save, h("button", { type: "button", onclick: () => close() }, "Cancel")),
    );
    setTimeout(() => inputs.name.focus(), 0);
    return [form] as Child[];
  });
}

export async function createWebhook(ctx: Ctx): Promise<void> {
  let secret: string | undefined;
  await webhookForm("New webhook", null, async (v) => {
    const result = await ctx.svc.call<{ webhook: { id: string }; secret: string }>("createWebhook", {
      siteId: ctx.site.id,
      name: v.name,
      url: v.url,
      events: v.events,
      ...(v.description ? { description: v.description } : {}),
      signatureScheme: v.signatureScheme,
      method: v.method,
      format: v.format,
      ...(v.headers ? { headers: v.headers } : {}),
      ...(v.routingKey ? { routingKey: v.routingKey } : {}),
    });
    secret = result.secret;
    location.hash = webhookHref(ctx.site.id, result.webhook.id);
  });
  if (secret) await showSecret(secret, "The webhook is created and delivering.");
}

export async function editWebhook(ctx: Ctx, w: WebhookView): Promise<void> {
  await webhookForm(`Edit ${w.name}`, w, async (v) => {
    const changes: Record<string, unknown> = {};
    if (v.name !== w.name) changes.name = v.name;
    if (v.url && v.url !== w.url) changes.url = v.url;
    if (v.description !== (w.description ?? "")) changes.description = v.description;
    if (v.events.join() !== w.events.join()) changes.events = v.events;
    if (v.signatureScheme !== w.signatureScheme) changes.signatureScheme = v.signatureScheme;
    if (v.method !== w.method) changes.method = v.method;
    if (v.format !== w.format) changes.format = v.format;
    if (v.headers) changes.headers = v.headers;
    if (v.routingKey) changes.routingKey = v.routingKey;
    if (Object.keys(changes).length === 0) return;
    await ctx.svc.call("updateWebhook", { siteId: ctx.site.id, webhookId: w.id, ...changes });
  });
}
