/**
 * `npm run host:compose -- --rules <host firestore.rules> --indexes <host firestore.indexes.json> --out <dir>`
 *
 * Writes <dir>/firestore.rules, firestore.indexes.json, firebase.json and conflicts.txt for a
 * deploy into a live Owlette project: every rule and index of the host kept, the pipeline's
 * added, its functions under their own codebase. Bad input is one line naming the file and
 * line, exit 2, and nothing written; a blocking conflict writes nothing either unless
 * --accept-blocking is given.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command, CommanderError } from "commander";
import { compose } from "./host/compose";
import { ComposeInputError } from "./host/rules-text";

const root = resolve(__dirname, "..");

function read(file: string): { text: string; file: string } {
  if (!existsSync(file)) throw new ComposeInputError(file, 1, "no such file");
  return { text: readFileSync(file, "utf8"), file };
}

export function runCompose(opts: { rules: string; indexes: string; out: string; acceptBlocking?: boolean }): { exitCode: number; message: string } {
  const out = resolve(opts.out);
  const result = compose({
    hostRules: read(opts.rules),
    hostIndexes: read(opts.indexes),
    pipelineRules: read(join(root, "firestore.host.rules")),
    pipelineIndexes: read(join(root, "firestore.indexes.json")),
    functionsSource: relative(out, join(root, "functions")) || ".",
  });
  const report = result.files["conflicts.txt"];
  if (result.blocking.length > 0 && !opts.acceptBlocking) {
    return {
      exitCode: 3,
      message: `${report}\nNothing written: ${result.blocking.length} blocking conflict(s). Fix the host rules, or pass --accept-blocking to write anyway.`,
    };
  }
  mkdirSync(out, { recursive: true });
  // Each file is written beside its final name and renamed, so a reader never sees half of one.
  for (const [name, text] of Object.entries(result.files)) {
    const tmp = join(out, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(out, name));
  }
  const summary = `Wrote ${Object.keys(result.files)
    .map((n) => join(relative(process.cwd(), out) || ".", n))
    .join(", ")}.`;
  return {
    exitCode: 0,
    message: `${report}\n${summary}\nDeploy: npx firebase deploy --config ${join(relative(process.cwd(), out) || ".", "firebase.json")} --project <id> --only firestore,functions:owlette-webhooks`,
  };
}

function main(argv: string[]): number {
  const program = new Command("host:compose")
    .description("Compose the host's Firestore rules and indexes with the pipeline's for a deploy into an Owlette project.")
    .requiredOption("--rules <file>", "the host's firestore.rules")
    .requiredOption("--indexes <file>", "the host's firestore.indexes.json")
    .requiredOption("--out <dir>", "where to write the composed files")
    .option("--accept-blocking", "write even when a host rule opens a server-only path (not recommended)")
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  try {
    const { exitCode, message } = runCompose(program.opts());
    (exitCode === 0 ? console.log : console.error)(message);
    return exitCode;
  } catch (error) {
    // Bad input (ComposeInputError) and a ruleset composed already: one line, exit 2.
    if (error instanceof Error) {
      console.error(`host:compose: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv);
