import { isIP } from "node:net";
import { z } from "zod";
import { customHeaderProblems } from "../domain/custom-headers";
import { checkDestinationUrl } from "../domain/destination-url";
import { SUBSCRIBABLE_EVENT_TYPES, isSubscribableEventType } from "../domain/event-catalog";
import { blockedAddressReason } from "../domain/ip-policy";
import { FORMATS } from "../domain/destination-formats";
import { SIGNATURE_SCHEMES } from "../domain/signature-schemes";
import { DELIVERY_STATUSES, HTTP_METHODS } from "../data/webhook-docs";
import { fromZodIssues } from "./errors";

/** Documented limits of the management API (README, OpenAPI). */
export const LIMITS = {
  nameLength: 100,
  descriptionLength: 500,
  urlLength: 2048,
  pageSizeDefault: 20,
  pageSizeMax: 100,
  rotationOverlapMaxSeconds: 7 * 86_400,
  rotationOverlapDefaultSeconds: 86_400,
} as const;

/** Firestore document ids: no slash, not "." or "..", not the reserved __x__ form. */
export const DOC_ID = /^(?!\.\.?$)(?!__.*__$)[^/]+$/;
const docId = z.string().min(1).max(256).regex(DOC_ID, "not a valid id");

/**
 * Text people read in the dashboard: no control characters (NUL, line breaks in a name, BEL,
 * DEL, C1) and no bidirectional overrides or isolates, which can make one name look like another.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_NAME = /[\n\r\t]/;
const readable = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .refine((v) => !UNSAFE_TEXT.test(v), "must not contain control characters or bidirectional overrides");
const name = readable(LIMITS.nameLength)
  .refine((v) => v.length > 0, "must not be empty")
  .refine((v) => !UNSAFE_NAME.test(v), "must be one line");
const description = readable(LIMITS.descriptionLength);

const events = z
  .array(z.string())
  .min(1, "subscribe to at least one event")
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((type, i) => {
      if (!isSubscribableEventType(type)) {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `unknown event "${type}"; one of ${SUBSCRIBABLE_EVENT_TYPES.join(", ")}`,
        });
      } else if (seen.has(type)) {
        ctx.addIssue({ code: "custom", path: [i], message: `"${type}" is listed twice` });
      }
      seen.add(type);
    });
  });

const headers = z
  .unknown()
  .transform((raw, ctx) => {
    // JSON.parse keeps "__proto__" as an own key, which an object copy would drop silently.
    if (typeof raw === "object" && raw !== null && Object.hasOwn(raw, "__proto__")) {
      ctx.addIssue({ code: "custom", path: ["__proto__"], message: "not usable as a header name here" });
    }
    return raw;
  })
  .pipe(
    z.record(z.string(), z.string({ error: "header values must be strings" })).superRefine((value, ctx) => {
      for (const problem of customHeaderProblems(value)) {
        ctx.addIssue({ code: "custom", path: problem.header === "*" ? [] : [problem.header], message: problem.reason });
      }
    }),
  );

function url(allowLocalHttp: boolean) {
  return z
    .string()
    .max(LIMITS.urlLength, `at most ${LIMITS.urlLength} characters`)
    .superRefine((raw, ctx) => {
      const checked = checkDestinationUrl(raw, { allowLocalHttp });
      if (!checked.ok) {
        ctx.addIssue({ code: "custom", message: checked.reason });
        return;
      }
      // Names are resolved and checked at every send; an address literal can be refused now.
      const host = checked.url.hostname.replace(/^\[|\]$/g, "");
      const blocked = checked.url.protocol === "https:" && (host === "localhost" ? "loopback" : isIP(host) ? blockedAddressReason(host) : null);
      if (blocked) ctx.addIssue({ code: "custom", message: `URL points to a non-public address (${blocked})` });
    });
}

const method = z.enum(HTTP_METHODS);
const format = z.enum(FORMATS);
// PagerDuty integration keys are 32 characters; other providers' keys stay within this.
const routingKey = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, "8-128 letters, digits, _ or -");

/** A `pagerduty` webhook cannot deliver without its integration key. */
function needsRoutingKey(v: { format?: string | undefined; routingKey?: string | undefined }, ctx: z.RefinementCtx) {
  if (v.format === "pagerduty" && !v.routingKey) {
    ctx.addIssue({ code: "custom", path: ["routingKey"], message: "required with format pagerduty (the PagerDuty integration key)" });
  }
}
const signatureScheme = z.enum(SIGNATURE_SCHEMES);
const site = { siteId: docId };
/** How a webhook's requests are made: the same optional fields on create, update and probe. */
const requestShape = {
  method: method.optional(),
  headers: headers.optional(),
  signatureScheme: signatureScheme.optional(),
  format: format.optional(),
  routingKey: routingKey.optional(),
};
const webhook = { ...site, webhookId: docId };
/** A moment as RFC 3339 text with its offset (`2026-12-07T08:00:00Z`, `...+01:00`). */
const instant = z.iso
  .datetime({ offset: true, error: "an RFC 3339 date and time with its offset, such as 2026-12-07T08:00:00Z" })
  .transform((v) => new Date(v));

/** Input schemas of every operation; built once with the deployment's URL policy. */
export function inputSchemas(opts: { allowLocalHttp: boolean }) {
  const destination = url(opts.allowLocalHttp);
  return {
    site: z.strictObject(site),
    webhook: z.strictObject(webhook),
    createWebhook: z
      .strictObject({
        ...site,
        name,
        url: destination,
        events,
        description: description.optional(),
        ...requestShape,
      })
      .superRefine(needsRoutingKey),
    updateWebhook: z
      .strictObject({
        ...webhook,
        name: name.optional(),
        url: destination.optional(),
        events: events.optional(),
        description: description.optional(),
        enabled: z.boolean().optional(),
        ...requestShape,
      })
      .refine((v) => Object.keys(v).some((k) => k !== "siteId" && k !== "webhookId"), {
        message: "nothing to update: give at least one of name, url, events, description, enabled, method, headers, signatureScheme, format, routingKey",
      })
      .superRefine(needsRoutingKey),
    rotateSecret: z.strictObject({
      ...webhook,
      // A number, or its decimal string (a query or form value); never null, "", [] or true.
      overlapSeconds: z
        .union(
          [
            z.number(),
            z
              .string()
              .regex(/^\d{1,7}$/, "a whole number of seconds")
              .transform(Number),
          ],
          {
            error: "a whole number of seconds",
          },
        )
        .pipe(z.number().int("a whole number of seconds").min(0).max(LIMITS.rotationOverlapMaxSeconds, `at most ${LIMITS.rotationOverlapMaxSeconds} (7 days)`))
        .default(LIMITS.rotationOverlapDefaultSeconds),
    }),
    probe: z
      .strictObject({
        ...site,
        url: destination,
        ...requestShape,
      })
      .superRefine(needsRoutingKey),
    listDeliveries: z.strictObject({
      ...webhook,
      limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax, `at most ${LIMITS.pageSizeMax}`).default(LIMITS.pageSizeDefault),
      cursor: z.string().max(512).optional(),
      status: z.enum(DELIVERY_STATUSES).optional(),
    }),
    delivery: z.strictObject({ ...webhook, deliveryId: docId }),
    recover: z.strictObject({ ...webhook, since: instant, until: instant.optional() }),
    recovery: z.strictObject({ ...webhook, recoveryId: docId }),
    createApiKey: z.strictObject({ ...site, name, access: z.enum(["read", "write"]).default("write") }),
    apiKey: z.strictObject({ ...site, keyId: docId }),
  };
}
export type InputSchemas = ReturnType<typeof inputSchemas>;

/** Parses or throws a 400 naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw fromZodIssues(result.error.issues);
  return result.data;
}
