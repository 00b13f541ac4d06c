import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { presenceModeOf, type PresenceMode } from "./domain/presence-mode";

/** The functions' directory: where `firebase deploy` and the emulator find the dotenv files, beside `lib/` and `src/`. */
const FUNCTIONS_DIR = join(__dirname, "..");

/**
 * The presence mode, read from the functions' dotenv files themselves: `.env`, then
 * `.env.<project id>`, then (in the emulator) `.env.local`, the later winning, as Firebase
 * loads them. Not from the environment: when `firebase deploy` (and the emulator) load the
 * code to learn which functions exist, the dotenv values are not in it yet, so the mode that
 * decides the exports must come from the files, and the running functions read the same files
 * to agree with it. (`.env.<alias>` files are not read: set the mode in `.env` or
 * `.env.<project id>`.)
 */
export function loadPresenceMode(env: NodeJS.ProcessEnv = process.env, dir = FUNCTIONS_DIR): PresenceMode {
  const files = [".env", ...(env.GCLOUD_PROJECT ? [`.env.${env.GCLOUD_PROJECT}`] : []), ...(env.FUNCTIONS_EMULATOR === "true" ? [".env.local"] : [])];
  let value: string | undefined;
  for (const file of files) {
    const path = join(dir, file);
    if (existsSync(path)) value = dotenvValue(readFileSync(path, "utf8"), "PRESENCE_MODE") ?? value;
  }
  return presenceModeOf(value);
}

/** A key's value in dotenv text (`KEY=value`, optionally quoted, a `#` comment after it), or undefined. */
export function dotenvValue(text: string, key: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^#]*?))\s*(?:#.*)?$/.exec(line);
    if (m && m[1] === key) return m[2] ?? m[3] ?? m[4] ?? "";
  }
  return undefined;
}
