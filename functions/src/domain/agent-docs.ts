import { z } from "zod";

/** Upper bounds on what agents write. Anything larger is treated as malformed, not truncated. */
export const AGENT_LIMITS = {
  id: 256,
  name: 256,
  status: 64,
  errorCode: 128,
  errorMessage: 16 * 1024,
  url: 2048,
} as const;

/** Firestore Timestamps arrive as objects with toMillis(); domain code needs nothing else. */
export interface TimestampLike {
  toMillis(): number;
}

export const timestampSchema = z.custom<TimestampLike>(
  (v) => typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function",
  { message: "expected a Firestore Timestamp" },
);

const optionalString = (max: number) => z.string().max(max).nullish();

/**
 * A number or nothing, never a reason to drop the doc: the announcement fields are read to hold
 * back a page, and a malformed one must not hide the events of the rest of the write.
 */
const lenientNumber = z.unknown().transform((v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
const lenientBool = z.unknown().transform((v) => v === true);

export const machineDocSchema = z.object({
  online: z.boolean().nullish(),
  lastHeartbeat: timestampSchema.nullish(),
  machineId: optionalString(AGENT_LIMITS.id),
  siteId: optionalString(AGENT_LIMITS.id),
  name: optionalString(AGENT_LIMITS.name),
  agent_version: optionalString(AGENT_LIMITS.name),
  health: z
    .object({
      status: optionalString(AGENT_LIMITS.status),
      error_code: z.union([z.string().max(AGENT_LIMITS.errorCode), z.number()]).nullish(),
      error_message: optionalString(AGENT_LIMITS.errorMessage),
    })
    .nullish(),
  // Announced reboot / shutdown, as deployed agents write them: a flag and the scheduled
  // instant in Unix seconds (a plain number), cleared with false / null after boot.
  rebooting: lenientBool.optional(),
  rebootScheduledAt: lenientNumber.optional(),
  shuttingDown: lenientBool.optional(),
  shutdownScheduledAt: lenientNumber.optional(),
});
export type MachineDoc = z.infer<typeof machineDocSchema>;

/**
 * `sites/{siteId}/logs/{logId}`, the deployed agent's activity log. Crashes arrive here (and by
 * the alert endpoint), not as process docs. Only the fields the pipeline reads are checked.
 */
export const logDocSchema = z.object({
  action: z.string().min(1).max(AGENT_LIMITS.status),
  level: optionalString(AGENT_LIMITS.status),
  machineId: z.string().min(1).max(AGENT_LIMITS.id),
  // `machineName` is not read: free text that can name another machine (detect-process-events.ts).
  processName: optionalString(AGENT_LIMITS.name),
  details: optionalString(AGENT_LIMITS.errorMessage),
  // Checked where it becomes a payload field (screenshot-url.ts): a link that is no public https
  // URL, or too long, is dropped there, never a reason to drop the crash.
  screenshotUrl: z.unknown().optional(),
  timestamp: timestampSchema.nullish(),
});
export type LogDoc = z.infer<typeof logDocSchema>;

export const processDocSchema = z.object({
  name: z.string().min(1).max(AGENT_LIMITS.name),
  status: z.string().min(1).max(AGENT_LIMITS.status),
  pid: z.number().nullish(),
  exitCode: z.number().int().nullish(),
  errorMessage: optionalString(AGENT_LIMITS.errorMessage),
});
export type ProcessDoc = z.infer<typeof processDocSchema>;

export type Parsed<T> = { ok: true; value: T | null } | { ok: false; problems: string };

/** Parses one side of a write. `undefined` (doc absent) is valid and yields `null`. */
export function parseAgentDoc<T>(schema: z.ZodType<T>, data: unknown): Parsed<T> {
  if (data === undefined || data === null) return { ok: true, value: null };
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "(doc)"}: ${i.message}`)
    .join("; ");
  return { ok: false, problems };
}
