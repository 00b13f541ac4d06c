/** Output helpers: readable tables for people, `--json` for scripts, one-line errors. */
export class CliError extends Error {}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "-" : Array.isArray(v) ? v.join(",") : String(v);
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
  return keys.map((k) => `${k.padEnd(width)}  ${format(obj[k])}`).join("\n");
}

function format(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return v.join(", ") || "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Progress goes to stderr so stdout stays clean for `--json` and pipes. */
export const progress = (message: string) => process.stderr.write(`${message}\n`);
