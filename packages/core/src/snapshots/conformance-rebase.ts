import assert from "node:assert/strict";
import { assertTree, writeFiles } from "./conformance-fs.js";
import { commitLayer, defineCase, rejectsWith, walkNames, withMounted, type ConformanceCase } from "./conformance-harness.js";

// Cases for snapshotters with SNAPSHOT_REBASE_CAPABILITY: a parent named at commit.

const rebase = defineCase("rebase", "a snapshot prepared without a parent takes one at commit and stacks on it", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "base", "", (dir) => writeFiles(dir, { base: "base\n", shadowed: "base\n" }));
  const mounts = await s.prepare(ctx, "upper-active", "");
  await withMounted(h, mounts, (dir) => writeFiles(dir, { upper: "upper\n", shadowed: "upper\n" }));
  await s.commit(ctx, "upper", "upper-active", { parent: "base" });

  assert.equal((await s.stat(ctx, "upper")).parent, "base", "the parent named at commit");
  assert.deepEqual(await walkNames(h, ["parent==base"]), ["upper"]);
  const expected = { base: "file:base\n", upper: "file:upper\n", shadowed: "file:upper\n" };
  await withMounted(h, await s.view(ctx, "top", "upper"), (dir) => assertTree(dir, expected, "a view of the rebased snapshot"));
  await rejectsWith(s.remove(ctx, "base"), "FailedPrecondition", "removing the parent a commit named");
  await s.remove(ctx, "top");
  await s.remove(ctx, "upper");
  await s.remove(ctx, "base");
});

const rebaseRefusals = defineCase("rebase-refusals", "a parent at commit must exist, be committed, and may not replace another", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "base", "");
  await commitLayer(h, "other", "");
  await s.prepare(ctx, "loose", "");
  await s.prepare(ctx, "active-parent", "");
  await s.prepare(ctx, "child", "base");
  await rejectsWith(s.commit(ctx, "n1", "loose", { parent: "missing" }), "NotFound", "commit onto an unknown parent");
  await rejectsWith(s.commit(ctx, "n2", "loose", { parent: "active-parent" }), "FailedPrecondition", "commit onto an active snapshot");
  await rejectsWith(s.commit(ctx, "n3", "child", { parent: "other" }), "InvalidArgument", "commit moving a snapshot to another parent");
  assert.equal((await s.stat(ctx, "loose")).kind, "active", "a refused rebase leaves the snapshot active");
  assert.equal((await s.stat(ctx, "child")).parent, "base");
  // Naming the parent it already has is no change.
  await s.commit(ctx, "n4", "child", { parent: "base" });
  assert.equal((await s.stat(ctx, "n4")).parent, "base");
});

export const rebaseCases: readonly ConformanceCase[] = [rebase, rebaseRefusals];
