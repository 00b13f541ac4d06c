import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RETURN_WATCH_FIELD } from "../../src/domain/return-watch";

// No index the pipeline adds puts the whole fleet's heartbeats in one index range: a range that
// takes a monotonically increasing value sustains about 500 writes a second, which 2,500
// machines beating every 5 s reach. The sweep's index is per site (collection scope); the
// collection-group indexes that remain take writes the pipeline itself makes, at the rates
// the data contract gives for each.

const ROOT = join(__dirname, "../../..");
const indexes = JSON.parse(readFileSync(join(ROOT, "firestore.indexes.json"), "utf8")) as {
  indexes: { collectionGroup: string; queryScope: string; fields: { fieldPath: string }[] }[];
  fieldOverrides: { collectionGroup: string; fieldPath: string; indexes: { queryScope?: string }[] }[];
};
const contract = readFileSync(join(ROOT, "docs/data-contract.md"), "utf8");

/** Collections an agent writes on every heartbeat or report: never under a collection-group index of the pipeline. */
const AGENT_WRITTEN = ["machines", "logs", "processes"];

/** Every collection-group index of the pipeline, as `collection.field`. */
function collectionGroupIndexes(): string[] {
  return [
    ...indexes.indexes.filter((i) => i.queryScope === "COLLECTION_GROUP").map((i) => `${i.collectionGroup}.${i.fields.map((f) => f.fieldPath).join("+")}`),
    ...indexes.fieldOverrides.filter((o) => o.indexes.some((i) => i.queryScope === "COLLECTION_GROUP")).map((o) => `${o.collectionGroup}.${o.fieldPath}`),
  ].sort();
}

/**
 * A composite index holds only the docs that have each of its fields: one led by the flag the
 * sweep presence mode keeps on marked machines (domain/return-watch.ts) holds those machines
 * alone, never the fleet's heartbeats.
 */
const SPARSE_ON_MACHINES = `machines.${RETURN_WATCH_FIELD}+lastHeartbeat`;

describe("index ranges", () => {
  it("the sweep's index on machines is per site, and no collection the agents write has a collection-group index over every doc", () => {
    const sweep = indexes.indexes.filter((i) => i.collectionGroup === "machines" && i.queryScope === "COLLECTION");
    expect(sweep).toMatchObject([{ fields: [{ fieldPath: "online" }, { fieldPath: "lastHeartbeat" }] }]);
    const overAgentDocs = collectionGroupIndexes().filter((i) => AGENT_WRITTEN.includes(i.split(".")[0]!));
    expect(overAgentDocs).toEqual([SPARSE_ON_MACHINES]);
  });

  it("each remaining collection-group index is one the data contract gives a write rate for", () => {
    const remaining = collectionGroupIndexes();
    expect(remaining).toEqual(["flaps.checkAt", "hostReports.reportedAt", SPARSE_ON_MACHINES, "presence.dueAt", "webhooks.url"]);
    // The section's bullets, each with its continuation lines.
    const bullets = contract
      .slice(contract.indexOf("## Indexes and TTL"))
      .split(/\n- /)
      .map((b) => b.replace(/\s+/g, " "));
    for (const index of remaining) {
      const bullet = bullets.find((b) => b.startsWith(`\`${index}\``) && b.includes("collection group"));
      expect({ index, documented: bullet !== undefined, rate: /writes?\/s|writes a (second|minute)/.test(bullet ?? "") }).toEqual({
        index,
        documented: true,
        rate: true,
      });
    }
  });
});
