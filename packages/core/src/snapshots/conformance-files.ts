import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assertTree, writeFiles } from "./conformance-fs.js";
import { commitLayer, defineCase, rejectsWith, withMounted, type ConformanceCase } from "./conformance-harness.js";

// Cases about what the mounts show: files written, inherited, changed, deleted, counted.

const commitAndView = defineCase(
  "commit-and-view",
  "files written in an active snapshot show in a view of its commit",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    const mounts = await s.prepare(ctx, "preparing", "");
    await withMounted(h, mounts, async (dir) => {
      await assertTree(dir, {}, "a new snapshot with no parent");
      await writeFiles(dir, { foo: "foo\n", "a/b/c/deep": "deep\n" });
      await symlink("a/b", join(dir, "link"));
    });
    await s.commit(ctx, "base", "preparing");
    const base = await s.stat(ctx, "base");
    assert.equal(base.kind, "committed");
    assert.equal(base.parent, "");
    assert.equal(base.name, "base");
    await rejectsWith(s.stat(ctx, "preparing"), "NotFound", "stat of a committed active key");

    await withMounted(h, await s.view(ctx, "view", "base"), (dir) =>
      assertTree(dir, { a: "dir", "a/b": "dir", "a/b/c": "dir", "a/b/c/deep": "file:deep\n", foo: "file:foo\n", link: "link:a/b" }, "view of base"),
    );
    await s.remove(ctx, "view");
    await s.remove(ctx, "base");
    await rejectsWith(s.stat(ctx, "base"), "NotFound", "stat after remove");
  },
);

const childSeesParent = defineCase(
  "child-sees-parent",
  "a child sees its parent's files and changes them in its own layer only",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "base", "", (dir) => writeFiles(dir, { foo: "foo\n", "etc/conf": "one\n" }));
    const mounts = await s.prepare(ctx, "next", "base");
    await withMounted(h, mounts, async (dir) => {
      await assertTree(dir, { etc: "dir", "etc/conf": "file:one\n", foo: "file:foo\n" }, "child of base before writing");
      await writeFiles(dir, { foo: "bar\n", bar: "bar\n", "etc/conf": "two\n" });
    });
    const next = await s.stat(ctx, "next");
    assert.equal(next.kind, "active");
    assert.equal(next.parent, "base");
    await s.commit(ctx, "next-committed", "next");
    assert.equal((await s.stat(ctx, "next-committed")).parent, "base");

    await withMounted(h, await s.view(ctx, "view-base", "base"), (dir) =>
      assertTree(dir, { etc: "dir", "etc/conf": "file:one\n", foo: "file:foo\n" }, "base after its child changed files"),
    );
    await withMounted(h, await s.view(ctx, "view-next", "next-committed"), (dir) =>
      assertTree(dir, { bar: "file:bar\n", etc: "dir", "etc/conf": "file:two\n", foo: "file:bar\n" }, "the committed child"),
    );
  },
);

const childDeletes = defineCase(
  "child-deletes",
  "deletions in a child hide the parent's files and directories, from grandchildren too",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "l1", "", (dir) =>
      writeFiles(dir, { foo: "foo\n", foobar: "foobar\n", "gone/x": "x\n", "lib/a": "a\n" }),
    );
    await commitLayer(h, "l2", "l1", async (dir) => {
      await rm(join(dir, "foobar"));
      await rm(join(dir, "gone"), { recursive: true });
      // A directory removed and made again must not show what the lower one held.
      await rm(join(dir, "lib"), { recursive: true });
      await writeFiles(dir, { "lib/b": "b\n" });
    });
    await commitLayer(h, "l3", "l2");
    const expected = { foo: "file:foo\n", lib: "dir", "lib/b": "file:b\n" };
    await withMounted(h, await s.view(ctx, "v2", "l2"), (dir) => assertTree(dir, expected, "the layer that deleted"));
    await withMounted(h, await s.view(ctx, "v3", "l3"), (dir) => assertTree(dir, expected, "a grandchild"));
    const mounts = await s.prepare(ctx, "a4", "l3");
    await withMounted(h, mounts, (dir) => assertTree(dir, expected, "an active grandchild"));
  },
);

const MiB = 1024 * 1024;

const usage = defineCase("usage", "usage counts a layer's own bytes and inodes, not its parent's", async (h) => {
  const { snapshotter: s, ctx } = h;
  const mounts = await s.prepare(ctx, "big", "");
  await withMounted(h, mounts, async (dir) => {
    await mkdir(join(dir, "d"));
    await writeFile(join(dir, "d", "data"), randomBytes(MiB));
  });
  const active = await s.usage(ctx, "big");
  assert.ok(active.size >= MiB, `usage of the active snapshot: size ${active.size} < ${MiB} bytes written`);
  assert.ok(active.inodes >= 2, `usage of the active snapshot: ${active.inodes} inodes for a directory and a file`);

  await s.commit(ctx, "big-committed", "big");
  const committed = await s.usage(ctx, "big-committed");
  assert.ok(committed.size >= MiB, `usage of the committed layer: size ${committed.size} < ${MiB} bytes written`);
  assert.ok(committed.inodes >= 2, `usage of the committed layer: ${committed.inodes} inodes for a directory and a file`);

  await commitLayer(h, "small", "big-committed", (dir) => writeFiles(dir, { small: "x".repeat(4096) }));
  const child = await s.usage(ctx, "small");
  assert.ok(child.size < MiB, `usage of a child: size ${child.size} includes its parent's ${MiB} bytes`);
  assert.ok(child.inodes >= 1, `usage of a child: ${child.inodes} inodes for the file it wrote`);
});

const viewReadOnly = defineCase("view-readonly", "views are read-only, over no parent, one parent or several", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "one", "", (dir) => writeFiles(dir, { one: "1\n" }));
  await commitLayer(h, "two", "one", (dir) => writeFiles(dir, { two: "2\n" }));
  const cases: [key: string, parent: string, tree: Record<string, string>][] = [
    ["view-empty", "", {}],
    ["view-one", "one", { one: "file:1\n" }],
    ["view-two", "two", { one: "file:1\n", two: "file:2\n" }],
  ];
  for (const [key, parent, tree] of cases) {
    await withMounted(h, await s.view(ctx, key, parent), async (dir) => {
      await assertTree(dir, tree, key);
      const write = writeFile(join(dir, "new"), "x");
      await assert.rejects(write, (err: NodeJS.ErrnoException) => {
        assert.ok(["EROFS", "EPERM", "EACCES"].includes(err.code ?? ""), `${key}: writing failed with ${err.code}, expected EROFS`);
        return true;
      }, `${key}: writing into a view must fail`);
      await assertTree(dir, tree, `${key} after the refused write`);
    });
    assert.equal((await s.stat(ctx, key)).kind, "view");
  }
});

const removeActiveAndView = defineCase(
  "remove-active-view",
  "active snapshots and views can be removed, and their keys come back empty",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "base", "", (dir) => writeFiles(dir, { base: "b\n" }));
    await withMounted(h, await s.prepare(ctx, "work", "base"), (dir) => writeFiles(dir, { scratch: "s\n" }));
    await s.view(ctx, "look", "base");
    await s.remove(ctx, "work");
    await s.remove(ctx, "look");
    await rejectsWith(s.stat(ctx, "work"), "NotFound", "stat of a removed active snapshot");
    await rejectsWith(s.stat(ctx, "look"), "NotFound", "stat of a removed view");
    await rejectsWith(s.mounts(ctx, "work"), "NotFound", "mounts of a removed active snapshot");
    await withMounted(h, await s.prepare(ctx, "work", "base"), (dir) =>
      assertTree(dir, { base: "file:b\n" }, "a key prepared again after removal"),
    );
    await withMounted(h, await s.prepare(ctx, "fresh", ""), (dir) => assertTree(dir, {}, "a new empty snapshot"));
    // With no children left, the parent goes too.
    await s.remove(ctx, "work");
    await s.remove(ctx, "base");
  },
);

const mountsRepeat = defineCase(
  "mounts-repeat",
  "mounts of an active snapshot or view repeat what prepare and view returned",
  async (h) => {
    const { snapshotter: s, ctx } = h;
    await commitLayer(h, "one", "", (dir) => writeFiles(dir, { one: "1\n" }));
    await commitLayer(h, "two", "one", (dir) => writeFiles(dir, { two: "2\n" }));
    for (const parent of ["", "one", "two"]) {
      const prepared = await s.prepare(ctx, `active-${parent}`, parent);
      assert.deepEqual(await s.mounts(ctx, `active-${parent}`), prepared, `mounts of an active snapshot over "${parent}"`);
      const viewed = await s.view(ctx, `view-${parent}`, parent);
      assert.deepEqual(await s.mounts(ctx, `view-${parent}`), viewed, `mounts of a view over "${parent}"`);
    }
    await withMounted(h, await s.mounts(ctx, "active-two"), async (dir) => {
      await writeFiles(dir, { three: "3\n" });
      await assertTree(dir, { one: "file:1\n", three: "file:3\n", two: "file:2\n" }, "mounts of an active snapshot");
    });
  },
);

const cleanupKeepsLive = defineCase("cleanup-keeps-live", "cleanup leaves every live snapshot intact", async (h) => {
  const { snapshotter: s, ctx } = h;
  await commitLayer(h, "base", "", (dir) => writeFiles(dir, { base: "b\n" }));
  await withMounted(h, await s.prepare(ctx, "work", "base"), (dir) => writeFiles(dir, { work: "w\n" }));
  await s.view(ctx, "look", "base");
  await commitLayer(h, "gone", "");
  await s.remove(ctx, "gone");
  await s.cleanup(ctx);
  await s.cleanup(ctx);
  await withMounted(h, await s.mounts(ctx, "work"), (dir) => assertTree(dir, { base: "file:b\n", work: "file:w\n" }, "active after cleanup"));
  await withMounted(h, await s.mounts(ctx, "look"), (dir) => assertTree(dir, { base: "file:b\n" }, "view after cleanup"));
  assert.deepEqual((await s.stat(ctx, "base")).kind, "committed");
});

export const filesystemCases: readonly ConformanceCase[] = [
  commitAndView,
  childSeesParent,
  childDeletes,
  usage,
  viewReadOnly,
  removeActiveAndView,
  mountsRepeat,
  cleanupKeepsLive,
];
