import assert from "node:assert/strict";
import { collect, commitLayer, defineCase, rejectsWith, walkNames, type ConformanceCase } from "./conformance-harness.js";

// Cases about refusals: each names the error class a client sees, and checks nothing changed.

const alreadyExists = defineCase("already-exists", "a reused key or committed name is AlreadyExists and changes nothing", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "base", "");
  await s.prepare(ctx, "a", "base");
  await rejectsWith(s.prepare(ctx, "a", "base"), "AlreadyExists", "prepare with an active key");
  await rejectsWith(s.view(ctx, "a", "base"), "AlreadyExists", "view with an active key");
  await rejectsWith(s.prepare(ctx, "base", ""), "AlreadyExists", "prepare with a committed name");
  await s.view(ctx, "v", "base");
  await rejectsWith(s.view(ctx, "v", ""), "AlreadyExists", "view with a view's key");
  await rejectsWith(s.commit(ctx, "base", "a"), "AlreadyExists", "commit to an existing name");
  await rejectsWith(s.commit(ctx, "v", "a"), "AlreadyExists", "commit to a view's key");
  const a = await s.stat(ctx, "a");
  assert.equal(a.kind, "active", "the active snapshot survives a refused commit");
  assert.equal(a.parent, "base");
  assert.deepEqual(await walkNames(h, []), ["a", "base", "v"]);
});

const notFound = defineCase("not-found", "unknown keys and parents are NotFound, and create nothing", async (h) => {
  const { snapshotter: s, ctx } = h;
  await rejectsWith(s.stat(ctx, "nope"), "NotFound", "stat");
  await rejectsWith(s.mounts(ctx, "nope"), "NotFound", "mounts");
  await rejectsWith(s.usage(ctx, "nope"), "NotFound", "usage");
  await rejectsWith(s.remove(ctx, "nope"), "NotFound", "remove");
  await rejectsWith(s.commit(ctx, "name", "nope"), "NotFound", "commit");
  await rejectsWith(s.update(ctx, { name: "nope", labels: {} }, []), "NotFound", "update");
  await rejectsWith(s.prepare(ctx, "child", "missing-parent"), "NotFound", "prepare over an unknown parent");
  await rejectsWith(s.view(ctx, "child-view", "missing-parent"), "NotFound", "view over an unknown parent");
  assert.deepEqual(await collect(s.walk(ctx, [])), [], "refused calls left snapshots behind");
});

const invalid = defineCase("invalid-argument", "empty keys and names, bad filters and unknown update fields are InvalidArgument", async (h) => {
  const { snapshotter: s, ctx } = h;
  await rejectsWith(s.prepare(ctx, "", ""), "InvalidArgument", "prepare with an empty key");
  await rejectsWith(s.view(ctx, "", ""), "InvalidArgument", "view with an empty key");
  await s.prepare(ctx, "a", "");
  await rejectsWith(s.commit(ctx, "", "a"), "InvalidArgument", "commit to an empty name");
  await rejectsWith(s.update(ctx, { name: "a", labels: {} }, ["parent"]), "InvalidArgument", "update of the parent");
  await rejectsWith(s.update(ctx, { name: "a", labels: {} }, ["kind"]), "InvalidArgument", "update of the kind");
  await rejectsWith(collect(s.walk(ctx, ["kind=="])), "InvalidArgument", "walk with a malformed filter");
  assert.deepEqual(await walkNames(h, []), ["a"]);
});

const removeWithChildren = defineCase(
  "remove-with-children",
  "a snapshot with children (active, view or committed) cannot be removed until they are",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "base", "");
    await commitLayer(h, "middle", "base");
    await s.prepare(ctx, "top", "middle");
    await s.view(ctx, "look", "middle");
    await rejectsWith(s.remove(ctx, "base"), "FailedPrecondition", "remove of a parent with a committed child");
    await rejectsWith(s.remove(ctx, "middle"), "FailedPrecondition", "remove of a parent with an active child and a view");
    await s.remove(ctx, "top");
    await rejectsWith(s.remove(ctx, "middle"), "FailedPrecondition", "remove of a parent with a view");
    await s.remove(ctx, "look");
    await s.remove(ctx, "middle");
    await s.remove(ctx, "base");
    assert.deepEqual(await walkNames(h, []), []);
  },
);

const committedPrecondition = defineCase(
  "committed-precondition",
  "mounts and commit of a committed snapshot, and commit of a view, are FailedPrecondition",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "base", "");
    await s.view(ctx, "look", "base");
    await rejectsWith(s.mounts(ctx, "base"), "FailedPrecondition", "mounts of a committed snapshot");
    await rejectsWith(s.commit(ctx, "again", "base"), "FailedPrecondition", "commit of a committed snapshot");
    await rejectsWith(s.commit(ctx, "from-view", "look"), "FailedPrecondition", "commit of a view");
    assert.deepEqual(await walkNames(h, []), ["base", "look"]);
    assert.equal((await s.stat(ctx, "look")).kind, "view");
  },
);

const parentNotCommitted = defineCase(
  "parent-not-committed",
  "prepare and view over an active snapshot or a view fail and create nothing",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await s.prepare(ctx, "active", "");
    await s.view(ctx, "look", "");
    await rejectsWith(s.prepare(ctx, "over-active", "active"), "FailedPrecondition", "prepare over an active snapshot");
    await rejectsWith(s.view(ctx, "view-active", "active"), "FailedPrecondition", "view over an active snapshot");
    await rejectsWith(s.prepare(ctx, "over-view", "look"), "FailedPrecondition", "prepare over a view");
    assert.deepEqual(await walkNames(h, []), ["active", "look"]);
    // The refused keys were not taken.
    await s.prepare(ctx, "over-active", "");
  },
);

const close = defineCase("close", "close can be called twice", async (h) => {
  await commitLayer(h, "base", "");
  await h.snapshotter.close();
  await h.snapshotter.close();
});

export const errorCases: readonly ConformanceCase[] = [
  alreadyExists,
  notFound,
  invalid,
  removeWithChildren,
  committedPrecondition,
  parentNotCommitted,
  close,
];
