import type { z } from "zod";

/** The refusals the management API can give, each with one HTTP status and one callable code. */
export const API_ERRORS = {
  invalid_argument: { http: 400, callable: "invalid-argument" },
  invalid_json: { http: 400, callable: "invalid-argument" },
  unauthenticated: { http: 401, callable: "unauthenticated" },
  permission_denied: { http: 403, callable: "permission-denied" },
  not_found: { http: 404, callable: "not-found" },
  method_not_allowed: { http: 405, callable: "unimplemented" },
  conflict: { http: 409, callable: "failed-precondition" },
  quota_exceeded: { http: 409, callable: "resource-exhausted" },
  unsupported_media_type: { http: 415, callable: "invalid-argument" },
  rate_limited: { http: 429, callable: "resource-exhausted" },
  internal: { http: 500, callable: "internal" },
  unavailable: { http: 503, callable: "unavailable" },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** One problem with one input field: `path` as the caller wrote it (`events[1]`, `headers.Host`). */
export interface FieldProblem {
  path: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: FieldProblem[] = [],
    /** With `rate_limited`: when to try again (the REST API's `Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get httpStatus(): number {
    return API_ERRORS[this.code].http;
  }

  toBody(): { error: { code: ApiErrorCode; message: string; details?: FieldProblem[]; retryAfterSeconds?: number } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.length ? { details: this.details } : {}),
        ...(this.retryAfterSeconds !== undefined ? { retryAfterSeconds: this.retryAfterSeconds } : {}),
      },
    };
  }
}

export function invalid(problems: FieldProblem[]): ApiError {
  const first = problems[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ""}${first.reason}` : "invalid input";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new ApiError("invalid_argument", `${summary}${more}`, problems);
}

/** `["events", 1]` -> `events[1]`; `["headers", "Host"]` -> `headers.Host`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`)).join("");
}

export function fromZodIssues(issues: readonly z.core.$ZodIssue[]): ApiError {
  return invalid(issues.map((issue) => ({ path: formatPath(issue.path), reason: issue.message })));
}
