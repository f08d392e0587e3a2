import { describe, expect, it } from "vitest";
import { expectError, ns, setup, sha256, writeBlob } from "./helpers.js";

const image = (name: string) => ({
  name,
  labels: {},
  target: { mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 10 },
});

const container = (id: string) => ({
  id,
  labels: {},
  image: "",
  runtime: { name: "io.containerd.runc.v2" },
  spec: { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([1]) },
  snapshotter: "",
  snapshotKey: "",
  extensions: {},
  sandbox: "",
});

describe("namespaces", () => {
  it("creates, gets, lists, updates and deletes", async () => {
    const { store } = await setup();
    const created = await store.namespaces.create("alpha", { team: "a", empty: "" });
    expect(created).toEqual({ name: "alpha", labels: { team: "a" } });
    await store.namespaces.create("beta", {});
    expect(await store.namespaces.get("alpha")).toEqual({ name: "alpha", labels: { team: "a" } });
    expect((await store.namespaces.list()).map((n) => n.name)).toEqual(["alpha", "beta"]);

    await store.namespaces.update({ name: "alpha", labels: { env: "prod" } }, ["labels.env"]);
    expect((await store.namespaces.get("alpha")).labels).toEqual({ team: "a", env: "prod" });
    await store.namespaces.update({ name: "alpha", labels: {} }, ["labels.team"]);
    expect((await store.namespaces.get("alpha")).labels).toEqual({ env: "prod" });
    await store.namespaces.update({ name: "alpha", labels: { only: "this" } }, []);
    expect((await store.namespaces.get("alpha")).labels).toEqual({ only: "this" });
    await store.namespaces.update({ name: "alpha", labels: { x: "1" } }, ["labels"]);
    expect((await store.namespaces.get("alpha")).labels).toEqual({ x: "1" });

    await store.namespaces.delete("beta");
    await expectError(store.namespaces.get("beta"), "NotFound");
    expect((await store.namespaces.list()).map((n) => n.name)).toEqual(["alpha"]);
  });

  it("refuses duplicates, unknown names, bad names, bad labels and bad fieldpaths", async () => {
    const { store } = await setup();
    await store.namespaces.create("alpha", {});
    await expectError(store.namespaces.create("alpha", {}), "AlreadyExists");
    await expectError(store.namespaces.create("Not valid!", {}), "InvalidArgument");
    await expectError(store.namespaces.create("big", { k: "v".repeat(5000) }), "InvalidArgument");
    await expectError(store.namespaces.get("nope"), "NotFound");
    await expectError(store.namespaces.delete("nope"), "NotFound");
    await expectError(store.namespaces.update({ name: "alpha", labels: {} }, ["name"]), "InvalidArgument");
  });

  it("keeps a label named __proto__ as an ordinary label", async () => {
    const { store } = await setup();
    const labels = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>;
    await store.namespaces.create("alpha", labels);
    const got = await store.namespaces.get("alpha");
    expect(Object.keys(got.labels).sort()).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(got.labels)).toBe(Object.prototype);
  });

  it("is created implicitly by the first mutation that uses it", async () => {
    const { store } = await setup();
    await store.images.create(ns("img-ns"), image("docker.io/library/busybox:latest"));
    await store.containers.create(ns("ctr-ns"), container("c1"));
    await store.leases.create(ns("lease-ns"), { id: "l1", labels: {} });
    await writeBlob(store.content, ns("blob-ns"), "ref", "hello");
    await store.content.writer(ns("ingest-ns"), { ref: "r" }).then((w) => w.close());
    await store.namespaces.update({ name: "labelled", labels: { a: "b" } }, []);
    expect((await store.namespaces.list()).map((n) => n.name).sort()).toEqual(
      ["blob-ns", "ctr-ns", "img-ns", "ingest-ns", "labelled", "lease-ns"].sort(),
    );
    // Reads create nothing.
    await store.images.list(ns("reader"), []);
    await expectError(store.images.get(ns("reader"), "x"), "NotFound");
    await expectError(store.namespaces.get("reader"), "NotFound");
  });

  it("refuses to delete a namespace that still holds something, naming what", async () => {
    const { store } = await setup();
    await store.images.create(ns("full"), image("a"));
    await store.containers.create(ns("full"), container("c1"));
    await store.leases.create(ns("full"), { id: "l1", labels: {} });
    await writeBlob(store.content, ns("full"), "ref", "data");

    const err = await store.namespaces.delete("full").catch((e: Error) => e);
    expect(String(err)).toMatch(/images, blobs, containers, leases/);
    await expectError(store.namespaces.delete("full"), "FailedPrecondition");

    await store.images.delete(ns("full"), "a");
    await store.containers.delete(ns("full"), "c1");
    await store.leases.delete(ns("full"), "l1");
    await expectError(store.namespaces.delete("full"), "FailedPrecondition"); // the blob
    await store.content.delete(ns("full"), sha256("data"));
    await store.namespaces.delete("full");
    await expectError(store.namespaces.get("full"), "NotFound");
  });

  it("drops leftover ingests with the namespace, so a recreated namespace starts empty", async () => {
    const { store } = await setup();
    const w = await store.content.writer(ns("tmp"), { ref: "half" });
    await w.write(Buffer.from("partial"));
    await w.close();
    await store.namespaces.delete("tmp");
    await store.namespaces.create("tmp", {});
    expect(await store.content.listStatuses(ns("tmp"), [])).toEqual([]);
  });
});
