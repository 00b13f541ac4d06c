import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "../../functions/src/seam";

const FUNCTIONS_DIR = join(__dirname, "..", "..", "functions");

/**
 * A functions parameter as the emulator suite hands it to a project's functions:
 * functions/.env.<projectId> over functions/.env (firebase-tools loads both, the project's file
 * winning). For the demo and the tests, which must expect what the functions were given.
 */
export function functionsSetting(projectId: string, name: string): string | undefined {
  for (const file of [`.env.${projectId}`, ".env"]) {
    const path = join(FUNCTIONS_DIR, file);
    if (!existsSync(path)) continue;
    const value = new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(path, "utf8"))?.[1];
    if (value !== undefined) return value.trim();
  }
  return undefined;
}

/** The retry schedule (seconds before each attempt) a project's functions run. */
export function retryScheduleOf(projectId: string): number[] {
  const text = functionsSetting(projectId, "RETRY_SCHEDULE_SECONDS");
  return text === undefined ? [...DEFAULT_RETRY_SCHEDULE_SECONDS] : parseRetrySchedule(text);
}
