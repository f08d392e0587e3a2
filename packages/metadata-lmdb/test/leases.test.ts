import { describe, expect, it } from "vitest";
import { expectError, ns, setup } from "./helpers.js";

const ctx = ns("default");
const DIGEST = `sha256:${"c".repeat(64)}`;

describe("leases", () => {
  it("creates, lists and deletes, keeping labels such as gc.expire as given", async () => {
    const { store } = await setup();
    const before = Date.now();
    const lease = await store.leases.create(ctx, {
      id: "pull-1",
      labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z", owner: "ctr" },
    });
    expect(lease.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    await store.leases.create(ctx, { id: "pull-2", labels: {} });
    await store.leases.create(ns("other"), { id: "pull-1", labels: {} });

    const listed = await store.leases.list(ctx, []);
    expect(listed.map((l) => l.id)).toEqual(["pull-1", "pull-2"]);
    expect(listed[0]).toEqual(lease);
    expect(listed[0]!.labels["containerd.io/gc.expire"]).toBe("2030-01-01T00:00:00Z");

    expect((await store.leases.list(ctx, ["id==pull-2"])).map((l) => l.id)).toEqual(["pull-2"]);
    expect((await store.leases.list(ctx, ["labels.owner==ctr"])).map((l) => l.id)).toEqual(["pull-1"]);
    expect((await store.leases.list(ctx, ['labels."containerd.io/gc.expire"'])).map((l) => l.id)).toEqual(["pull-1"]);

    await store.leases.delete(ctx, "pull-1");
    expect((await store.leases.list(ctx, [])).map((l) => l.id)).toEqual(["pull-2"]);
    expect((await store.leases.list(ns("other"), [])).map((l) => l.id)).toEqual(["pull-1"]);
    await expectError(store.leases.delete(ctx, "pull-1"), "NotFound");
  });

  it("refuses duplicate and empty ids", async () => {
    const { store } = await setup();
    await store.leases.create(ctx, { id: "l", labels: {} });
    await expectError(store.leases.create(ctx, { id: "l", labels: {} }), "AlreadyExists");
    await expectError(store.leases.create(ctx, { id: "", labels: {} }), "InvalidArgument");
  });

  it("adds, lists and deletes resources of every supported type", async () => {
    const { store } = await setup();
    await store.leases.create(ctx, { id: "l", labels: {} });
    const resources = [
      { type: "snapshots/overlayfs", id: "extract-1 sha256:abc" },
      { type: "content", id: DIGEST },
      { type: "ingests", id: "layer-sha256:abc" },
      { type: "images", id: "docker.io/library/busybox:latest" },
      { type: "snapshots/native", id: "k" },
    ];
    for (const r of resources) await store.leases.addResource(ctx, "l", r);
    await store.leases.addResource(ctx, "l", resources[1]!); // idempotent
    expect(await store.leases.listResources(ctx, "l")).toEqual([
      { type: "content", id: DIGEST },
      { type: "images", id: "docker.io/library/busybox:latest" },
      { type: "ingests", id: "layer-sha256:abc" },
      { type: "snapshots/native", id: "k" },
      { type: "snapshots/overlayfs", id: "extract-1 sha256:abc" },
    ]);

    await store.leases.deleteResource(ctx, "l", { type: "content", id: DIGEST });
    await store.leases.deleteResource(ctx, "l", { type: "content", id: DIGEST }); // absent: fine
    expect((await store.leases.listResources(ctx, "l")).map((r) => r.type)).toEqual([
      "images",
      "ingests",
      "snapshots/native",
      "snapshots/overlayfs",
    ]);

    // Deleting the lease drops its resources; a new lease of that name starts empty.
    await store.leases.delete(ctx, "l");
    await expectError(store.leases.listResources(ctx, "l"), "NotFound");
    await store.leases.create(ctx, { id: "l", labels: {} });
    expect(await store.leases.listResources(ctx, "l")).toEqual([]);
  });

  it("validates resources and needs the lease to exist", async () => {
    const { store } = await setup();
    await store.leases.create(ctx, { id: "l", labels: {} });
    await expectError(store.leases.addResource(ctx, "l", { type: "content", id: "not-a-digest" }), "InvalidArgument");
    await expectError(store.leases.addResource(ctx, "l", { type: "content/x", id: DIGEST }), "InvalidArgument");
    await expectError(store.leases.addResource(ctx, "l", { type: "snapshots", id: "k" }), "InvalidArgument");
    await expectError(store.leases.addResource(ctx, "l", { type: "snapshots/a/b", id: "k" }), "InvalidArgument");
    await expectError(store.leases.addResource(ctx, "l", { type: "ingests", id: "" }), "InvalidArgument");
    await expectError(store.leases.addResource(ctx, "l", { type: "containers", id: "c" }), "NotImplemented");
    await expectError(store.leases.addResource(ctx, "missing", { type: "ingests", id: "r" }), "NotFound");
    await expectError(store.leases.deleteResource(ctx, "missing", { type: "ingests", id: "r" }), "NotFound");
    await expectError(store.leases.listResources(ctx, "missing"), "NotFound");
    await expectError(store.leases.listResources(ns("other"), "l"), "NotFound");
    expect(await store.leases.listResources(ctx, "l")).toEqual([]);
  });
});
