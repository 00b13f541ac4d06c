import { z } from "zod";

/** Upper bounds on what agents write. Anything larger is treated as malformed, not truncated. */
export const AGENT_LIMITS = {
  id: 256,
  name: 256,
  status: 64,
  errorCode: 128,
  errorMessage: 16 * 1024,
} as const;

/** Firestore Timestamps arrive as objects with toMillis(); domain code needs nothing else. */
export interface TimestampLike {
  toMillis(): number;
}

export const timestampSchema = z.custom<TimestampLike>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as { toMillis?: unknown }).toMillis === "function",
  { message: "expected a Firestore Timestamp" },
);

const optionalString = (max: number) => z.string().max(max).nullish();

export const machineDocSchema = z.object({
  online: z.boolean().nullish(),
  lastHeartbeat: timestampSchema.nullish(),
  machineId: optionalString(AGENT_LIMITS.id),
  siteId: optionalString(AGENT_LIMITS.id),
  name: optionalString(AGENT_LIMITS.name),
  agent_version: optionalString(AGENT_LIMITS.name),
  offlineReason: optionalString(AGENT_LIMITS.status),
  offlineSince: timestampSchema.nullish(),
  health: z
    .object({
      status: optionalString(AGENT_LIMITS.status),
      error_code: z.union([z.string().max(AGENT_LIMITS.errorCode), z.number()]).nullish(),
      error_message: optionalString(AGENT_LIMITS.errorMessage),
    })
    .nullish(),
});
export type MachineDoc = z.infer<typeof machineDocSchema>;

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
