import assert from "node:assert/strict";
import { commitLayer, defineCase, walkNames, type ConformanceCase, type ConformanceHarness } from "./conformance-harness.js";
import type { SnapshotInfo } from "./snapshotter.js";

// Cases about what snapshots say about themselves: kinds, parents, times, labels, walks.

/**
 * The set containerd's suite starts from, empty layers all:
 *   c1 committed, no parent      c2 committed over c1
 *   a1 active over c2            a2 active, no parent
 *   v1 view over c2              v2 view, no parent
 */
async function baseSnapshots(h: ConformanceHarness, labels?: Record<string, string>): Promise<void> {
  const { snapshotter: s, ctx } = h;
  const opts = labels ? { labels } : undefined;
  await s.prepare(ctx, "c1-active", "", opts);
  await s.commit(ctx, "c1", "c1-active", opts);
  await s.prepare(ctx, "c2-active", "c1", opts);
  await s.commit(ctx, "c2", "c2-active", opts);
  await s.prepare(ctx, "a1", "c2", opts);
  await s.prepare(ctx, "a2", "", opts);
  await s.view(ctx, "v1", "c2", opts);
  await s.view(ctx, "v2", "", opts);
}

const BASE: readonly (readonly [name: string, kind: SnapshotInfo["kind"], parent: string])[] = [
  ["c1", "committed", ""],
  ["c2", "committed", "c1"],
  ["a1", "active", "c2"],
  ["a2", "active", ""],
  ["v1", "view", "c2"],
  ["v2", "view", ""],
];

const statKinds = defineCase("stat-kinds-parents", "stat reports the kind, parent and times of every kind of snapshot", async (h) => {
  const before = Date.now();
  await baseSnapshots(h);
  const after = Date.now();
  for (const [name, kind, parent] of BASE) {
    const info = await h.snapshotter.stat(h.ctx, name);
    assert.equal(info.name, name);
    assert.equal(info.kind, kind, `kind of ${name}`);
    assert.equal(info.parent, parent, `parent of ${name}`);
    assert.deepEqual(info.labels, {}, `labels of ${name}`);
    const created = info.createdAt.getTime();
    assert.ok(created >= before && created <= after, `${name} created at ${info.createdAt.toISOString()}, outside the test`);
    assert.equal(info.updatedAt.getTime(), created, `${name}: updated differs from created before any update`);
  }
});

const labels = defineCase("labels", "labels given to prepare, view and commit are kept; commit does not inherit them", async (h) => {
  const { snapshotter: s, ctx } = h;
  await s.prepare(ctx, "active", "", { labels: { stage: "active", keep: "yes" } });
  assert.deepEqual((await s.stat(ctx, "active")).labels, { stage: "active", keep: "yes" });
  await s.commit(ctx, "committed", "active", { labels: { stage: "committed" } });
  assert.deepEqual((await s.stat(ctx, "committed")).labels, { stage: "committed" }, "commit replaces the labels");
  await s.view(ctx, "view", "committed", { labels: { "containerd.io/gc.root": "2024-01-01T00:00:00Z" } });
  assert.deepEqual((await s.stat(ctx, "view")).labels, { "containerd.io/gc.root": "2024-01-01T00:00:00Z" });
  await s.prepare(ctx, "bare", "committed");
  assert.deepEqual((await s.stat(ctx, "bare")).labels, {}, "a child does not inherit its parent's labels");
});

const update = defineCase(
  "update-labels",
  'update: "labels.<key>" sets or removes one label, "labels" or no fieldpath replaces them all',
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await baseSnapshots(h, { origin: "base" });
    for (const [name, kind, parent] of BASE) {
      const before = await s.stat(ctx, name);
      const t1 = Date.now();

      // No fieldpaths: every label replaced. Kind and parent are not the caller's to change.
      const replaced = await s.update(ctx, { name, labels: { l1: "v1", l2: "v2" } }, []);
      assert.deepEqual(replaced.labels, { l1: "v1", l2: "v2" }, `${name}: labels after a full update`);
      assert.equal(replaced.kind, kind);
      assert.equal(replaced.parent, parent);
      assert.equal(replaced.createdAt.getTime(), before.createdAt.getTime(), `${name}: update changed the creation time`);
      assert.ok(replaced.updatedAt.getTime() >= t1, `${name}: update did not advance the update time`);

      const one = await s.update(ctx, { name, labels: { l1: "changed", l2: "ignored", l3: "new" } }, ["labels.l1", "labels.l3"]);
      assert.deepEqual(one.labels, { l1: "changed", l2: "v2", l3: "new" }, `${name}: only the named labels change`);

      const removed = await s.update(ctx, { name, labels: { l1: "" } }, ["labels.l1", "labels.l2"]);
      assert.deepEqual(removed.labels, { l3: "new" }, `${name}: a named label with no value is removed`);

      const all = await s.update(ctx, { name, labels: { only: "this" } }, ["labels"]);
      assert.deepEqual(all.labels, { only: "this" }, `${name}: "labels" replaces them all`);

      const stat = await s.stat(ctx, name);
      assert.deepEqual(stat.labels, { only: "this" }, `${name}: stat after update`);
      assert.equal(stat.updatedAt.getTime(), all.updatedAt.getTime(), `${name}: stat shows the update time update returned`);
    }
  },
);

const walk = defineCase("walk-filters", "walk lists every snapshot, or those matching kind, name, parent and label filters", async (h) => {
  const { snapshotter: s, ctx } = h;
  await baseSnapshots(h);
  await s.update(ctx, { name: "a1", labels: { x: "y", "dotted.key": "z" } }, []);
  await s.update(ctx, { name: "c1", labels: { x: "other" } }, []);

  assert.deepEqual(await walkNames(h, []), ["a1", "a2", "c1", "c2", "v1", "v2"], "walk with no filters");
  assert.deepEqual(await walkNames(h, [""]), ["a1", "a2", "c1", "c2", "v1", "v2"], "walk with an empty filter");
  assert.deepEqual(await walkNames(h, ["kind==committed"]), ["c1", "c2"]);
  assert.deepEqual(await walkNames(h, ["kind==active"]), ["a1", "a2"]);
  assert.deepEqual(await walkNames(h, ["kind==view"]), ["v1", "v2"]);
  assert.deepEqual(await walkNames(h, ["parent==c2"]), ["a1", "v1"]);
  assert.deepEqual(await walkNames(h, ["name==a2"]), ["a2"]);
  assert.deepEqual(await walkNames(h, ['labels."x"==y']), ["a1"]);
  assert.deepEqual(await walkNames(h, ["labels.x"]), ["a1", "c1"]);
  assert.deepEqual(await walkNames(h, ['labels."dotted.key"==z']), ["a1"]);
  assert.deepEqual(await walkNames(h, ["kind==committed,labels.x==other"]), ["c1"]);
  assert.deepEqual(await walkNames(h, ["kind==view", "name==c2"]), ["c2", "v1", "v2"], "a list of filters is OR");
  assert.deepEqual(await walkNames(h, ["name~=^v"]), ["v1", "v2"]);

  const walked = new Map<string, SnapshotInfo>();
  for await (const info of s.walk(ctx, [])) walked.set(info.name, info);
  for (const [name] of BASE) {
    assert.deepEqual(walked.get(name), await s.stat(ctx, name), `walk and stat agree on ${name}`);
  }
});

const commitFreesKey = defineCase("commit-frees-key", "commit turns the active key into the committed name; the key can be used again", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "first", "");
  await s.prepare(ctx, "first-active", "first");
  assert.equal((await s.stat(ctx, "first-active")).parent, "first");
  assert.equal((await s.stat(ctx, "first")).kind, "committed");
});

export const metadataCases: readonly ConformanceCase[] = [statKinds, labels, update, walk, commitFreesKey];
