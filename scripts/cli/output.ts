/** Output helpers: readable tables for people, `--json` for scripts, one-line errors. */
export class CliError extends Error {}

/**
 * C0 controls (line breaks and tabs included), DEL, C1 controls, and the bidirectional marks,
 * embeddings, overrides and isolates: the characters that let text reaching a terminal do more
 * than show itself. ESC and CSI start sequences that set a window title, write the clipboard
 * (OSC 52) or clear the screen; a line break or carriage return forges a line of its own; a bidi
 * override makes what follows read backwards. Also the Arabic letter mark, the zero-width space
 * and joiners, the line and paragraph separators and the byte order mark: invisible, they make
 * two strings that look the same differ, or break a line where none shows.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Any text shown to a person (agent details and machine names, receiver answers, API messages,
 * request headers), with every character of `UNSAFE` written as a visible escape (`\x1b`, `\n`,
 * `\u202e`), so it stays on its one line and does nothing to the terminal. Backslashes are left
 * alone so Windows paths stay readable: a literal `\x1b` in the text looks like an escaped ESC,
 * and is just as harmless. `--json` output does not go through this; JSON has its own escaping.
 */
export function printable(value: unknown): string {
  return String(value).replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return SHORT[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}

/** `printable` for text already laid out in lines (tables, details): its own line breaks are kept. */
export const printableLines = (text: string) => text.split("\n").map(printable).join("\n");

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cell = (v: unknown) => {
    // Escaped before measuring: the widths are those of what is shown.
    const s = printable(v === null || v === undefined ? "-" : Array.isArray(v) ? v.join(",") : v);
    return s.length > 60 ? `${s.slice(0, 59)}…` : s;
  };
  const grid = [columns, ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => (line[i] as string).length)));
  return grid
    .map((line) =>
      line
        .map((c, i) => c.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function details(obj: Record<string, unknown>, keys: string[]): string {
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${printable(format(obj[k]))}`).join("\n");
}

function format(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return v.join(", ") || "-";
  // JSON.stringify escapes C0 controls but not DEL, C1 or bidi overrides: the caller escapes those.
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Progress goes to stderr so stdout stays clean for `--json` and pipes; one line each. */
export const progress = (message: string) => process.stderr.write(`${printable(message)}\n`);
