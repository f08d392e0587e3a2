import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { openMetadataStore } from "../src/index.js";
import { ns, tempDir } from "./helpers.js";
import { createMemoryContentStore } from "./memory-content-store.js";

const BATCH = 4000;
const CHILD = join(import.meta.dirname, "fixtures", "crash-writer.mjs");

/**
 * Runs the writer child until it has committed `committed` batches and begun the next, then
 * SIGKILLs it: with ~4000 puts per transaction it is almost surely inside one by then.
 */
async function killMidTransaction(path: string, committed: number): Promise<{ lastCommit: number; lastBegin: number }> {
  const child = spawn(process.execPath, [CHILD, path, String(BATCH)], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  let lastCommit = -1;
  let lastBegin = -1;
  for await (const line of createInterface({ input: child.stdout })) {
    const [what, n] = line.split(" ");
    if (what === "commit") lastCommit = Number(n);
    if (what === "begin") {
      lastBegin = Number(n);
      if (lastCommit >= committed - 1) {
        child.kill("SIGKILL");
        break;
      }
    }
  }
  expect(await exited).toBe("SIGKILL");
  return { lastCommit, lastBegin };
}

describe("a writer killed with SIGKILL", () => {
  it("leaves an environment that opens cleanly with exactly the committed transactions", async () => {
    const path = join(await tempDir(), "meta.lmdb");
    const { lastCommit, lastBegin } = await killMidTransaction(path, 5);
    expect(lastCommit).toBeGreaterThanOrEqual(4);

    const store = await openMetadataStore(path, createMemoryContentStore());
    try {
      expect(await store.namespaces.get("crash")).toEqual({ name: "crash", labels: { phase: "setup" } });
      const perBatch = new Map<number, number>();
      for (const image of await store.images.list(ns("crash"), [])) {
        const batch = Number(/^b(\d+)-/.exec(image.name)![1]);
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      // Every acknowledged batch is whole; the one in flight is whole or absent, never partial.
      for (let i = 0; i <= lastCommit; i++) expect(perBatch.get(i), `batch ${i}`).toBe(BATCH);
      for (const [batch, count] of perBatch) {
        expect(batch).toBeLessThanOrEqual(lastBegin);
        expect(count, `batch ${batch}`).toBe(BATCH);
      }

      // The dead writer's lock is recovered: this process can write.
      await store.images.create(ns("crash"), {
        name: "after-crash",
        labels: {},
        target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 1 },
      });
      await store.namespaces.update({ name: "crash", labels: { phase: "recovered" } }, []);
    } finally {
      await store.close();
    }

    const reopened = await openMetadataStore(path, createMemoryContentStore());
    try {
      expect((await reopened.images.get(ns("crash"), "after-crash")).name).toBe("after-crash");
      expect((await reopened.namespaces.get("crash")).labels).toEqual({ phase: "recovered" });
    } finally {
      await reopened.close();
    }
  });
});
