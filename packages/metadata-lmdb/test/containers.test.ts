import { describe, expect, it } from "vitest";
import type { Container, TypedValue } from "@berth/core";
import { expectError, ns, setup, sleep } from "./helpers.js";

type ContainerInput = Omit<Container, "createdAt" | "updatedAt">;

const any = (typeUrl: string, ...bytes: number[]): TypedValue => ({ typeUrl, value: new Uint8Array(bytes) });
const SPEC = any("types.containerd.io/opencontainers/runtime-spec/1/Spec", 1, 2, 3);

const container = (id: string, over: Partial<ContainerInput> = {}): ContainerInput => ({
  id,
  labels: {},
  image: "docker.io/library/busybox:latest",
  runtime: { name: "io.containerd.runc.v2" },
  spec: SPEC,
  snapshotter: "overlayfs",
  snapshotKey: id,
  extensions: {},
  sandbox: "",
  ...over,
});

const ctx = ns("default");

describe("containers", () => {
  it("creates, gets, lists and deletes, keeping every field", async () => {
    const { store } = await setup();
    const input = container("web", {
      labels: { app: "web" },
      runtime: { name: "io.containerd.runc.v2", options: any("runc.Options", 9) },
      extensions: { "ext.one": any("x", 7) },
      sandbox: "sb1",
    });
    const created = await store.containers.create(ctx, input);
    expect(created.updatedAt).toEqual(created.createdAt);
    const got = await store.containers.get(ctx, "web");
    expect(got).toEqual(created);
    expect(got).toMatchObject({ ...input });
    expect(got.spec?.value).toBeInstanceOf(Uint8Array);
    expect(Array.from(got.spec!.value)).toEqual([1, 2, 3]);
    expect(Array.from(got.runtime.options!.value)).toEqual([9]);
    expect(Array.from(got.extensions["ext.one"]!.value)).toEqual([7]);

    await store.containers.create(ctx, container("db"));
    expect((await store.containers.list(ctx, [])).map((c) => c.id)).toEqual(["db", "web"]);
    expect(await store.containers.list(ns("other"), [])).toEqual([]);

    await store.containers.delete(ctx, "db");
    await expectError(store.containers.get(ctx, "db"), "NotFound");
    await expectError(store.containers.delete(ctx, "db"), "NotFound");
  });

  it("validates as containerd does", async () => {
    const { store } = await setup();
    await store.containers.create(ctx, container("c1"));
    await expectError(store.containers.create(ctx, container("c1")), "AlreadyExists");
    await expectError(store.containers.create(ctx, container("bad id!")), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("")), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("a".repeat(77))), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("c2", { runtime: { name: "" } })), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("c2", { spec: undefined })), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("c2", { snapshotter: "", snapshotKey: "k" })), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("c2", { extensions: { "": SPEC } })), "InvalidArgument");
    await expectError(store.containers.create(ctx, container("c2", { labels: { k: "v".repeat(4096) } })), "InvalidArgument");
    // Image and snapshot are optional.
    await store.containers.create(ctx, container("c3", { image: "", snapshotter: "", snapshotKey: "" }));
    expect((await store.containers.list(ctx, [])).map((c) => c.id)).toEqual(["c1", "c3"]);
  });

  it("updates mutable fields by fieldpath and keeps createdAt", async () => {
    const { store } = await setup();
    const created = await store.containers.create(
      ctx,
      container("c", { labels: { keep: "1", drop: "2" }, extensions: { a: any("a", 1), b: any("b", 2) } }),
    );
    await sleep(5);
    const incoming = container("c", {
      labels: { add: "3" },
      image: "other:latest",
      spec: any("spec", 42),
      snapshotKey: "new-key",
      extensions: { b: any("b", 20), c: any("c", 30) },
    });

    let u = await store.containers.update(ctx, incoming, ["labels.add", "labels.drop"]);
    expect(u.labels).toEqual({ keep: "1", add: "3" });
    expect(u.createdAt).toEqual(created.createdAt);
    expect(u.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());

    u = await store.containers.update(ctx, incoming, ["extensions.b", "extensions.a"]);
    expect(Object.keys(u.extensions).sort()).toEqual(["b"]);
    expect(Array.from(u.extensions["b"]!.value)).toEqual([20]);

    u = await store.containers.update(ctx, incoming, ["image", "spec", "snapshotkey"]);
    expect(u.image).toBe("other:latest");
    expect(Array.from(u.spec!.value)).toEqual([42]);
    expect(u.snapshotKey).toBe("new-key");

    u = await store.containers.update(ctx, incoming, ["extensions", "labels"]);
    expect(Object.keys(u.extensions).sort()).toEqual(["b", "c"]);
    expect(u.labels).toEqual({ add: "3" });

    // No fieldpaths: every mutable field is replaced.
    u = await store.containers.update(ctx, container("c", { labels: { full: "1" }, image: "" }), []);
    expect(u.labels).toEqual({ full: "1" });
    expect(u.image).toBe("");
    expect(u.extensions).toEqual({});
    expect(u.snapshotKey).toBe("c");
    expect(await store.containers.get(ctx, "c")).toEqual(u);
  });

  it("keeps runtime, snapshotter and sandbox immutable", async () => {
    const { store } = await setup();
    const created = await store.containers.create(ctx, container("c", { sandbox: "sb" }));
    const changedRuntime = container("c", { runtime: { name: "io.containerd.other.v1" } });
    const changedSnapshotter = container("c", { snapshotter: "native" });

    await expectError(store.containers.update(ctx, changedRuntime, ["runtime"]), "InvalidArgument");
    await expectError(store.containers.update(ctx, changedRuntime, ["runtime.name"]), "InvalidArgument");
    await expectError(store.containers.update(ctx, changedRuntime, []), "InvalidArgument");
    await expectError(store.containers.update(ctx, container("c", { runtime: { name: "" } }), []), "InvalidArgument");
    await expectError(store.containers.update(ctx, changedSnapshotter, ["snapshotter"]), "InvalidArgument");
    await expectError(store.containers.update(ctx, changedSnapshotter, ["snapshotkey", "snapshotter"]), "InvalidArgument");
    await expectError(store.containers.update(ctx, changedSnapshotter, []), "InvalidArgument");
    await expectError(store.containers.update(ctx, container("c", { sandbox: "other" }), ["sandbox"]), "InvalidArgument");

    // A full update with the same runtime and snapshotter does not touch the sandbox either.
    const u = await store.containers.update(ctx, container("c", { sandbox: "other", labels: { x: "1" } }), []);
    expect(u.sandbox).toBe("sb");
    expect(u.runtime).toEqual(created.runtime);

    await expectError(store.containers.update(ctx, container("missing"), []), "NotFound");
    await expectError(store.containers.update(ctx, container(""), []), "InvalidArgument");
    // A mask that leaves the container invalid is refused as a whole.
    await expectError(store.containers.update(ctx, container("c", { spec: undefined, labels: { y: "2" } }), ["labels.y", "spec"]), "InvalidArgument");
    expect((await store.containers.get(ctx, "c")).labels).toEqual({ x: "1" });
  });

  it("filters on id, image, runtime.name, snapshotter and labels", async () => {
    const { store } = await setup();
    await store.containers.create(ctx, container("a", { labels: { role: "web" } }));
    await store.containers.create(ctx, container("b", { image: "redis:7", runtime: { name: "io.containerd.runsc.v1" } }));
    await store.containers.create(ctx, container("c", { snapshotter: "native", labels: { role: "db" } }));
    const ids = async (filters: string[]) => (await store.containers.list(ctx, filters)).map((c) => c.id);

    expect(await ids(["id==b"])).toEqual(["b"]);
    expect(await ids(["image==redis:7"])).toEqual(["b"]);
    expect(await ids(["runtime.name==io.containerd.runc.v2"])).toEqual(["a", "c"]);
    expect(await ids(["snapshotter==native"])).toEqual(["c"]);
    expect(await ids(["labels.role"])).toEqual(["a", "c"]);
    expect(await ids(["labels.role==db", "id==a"])).toEqual(["a", "c"]);
    expect(await ids(["labels.role!=web"])).toEqual(["b", "c"]);
  });
});
