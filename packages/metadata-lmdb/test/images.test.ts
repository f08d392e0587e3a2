import { describe, expect, it } from "vitest";
import type { Image } from "@berth/core";
import { expectError, ns, setup, sleep } from "./helpers.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

type ImageInput = Omit<Image, "createdAt" | "updatedAt">;
const image = (name: string, over: Partial<ImageInput> = {}): ImageInput => ({
  name,
  labels: {},
  target: { mediaType: INDEX, digest: D1, size: 100 },
  ...over,
});

const ctx = ns("default");

describe("images", () => {
  it("creates, gets, lists and deletes, with timestamps", async () => {
    const { store } = await setup();
    const before = Date.now();
    const created = await store.images.create(ctx, image("docker.io/library/busybox:latest", { labels: { a: "1" } }));
    expect(created.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(created.updatedAt).toEqual(created.createdAt);
    const got = await store.images.get(ctx, "docker.io/library/busybox:latest");
    expect(got).toEqual(created);
    expect(got.target).toEqual({ mediaType: INDEX, digest: D1, size: 100 });

    await store.images.create(ctx, image("docker.io/library/alpine:3"));
    expect((await store.images.list(ctx, [])).map((i) => i.name)).toEqual([
      "docker.io/library/alpine:3",
      "docker.io/library/busybox:latest",
    ]);
    // Other namespaces do not see them.
    expect(await store.images.list(ns("other"), [])).toEqual([]);
    await expectError(store.images.get(ns("other"), "docker.io/library/alpine:3"), "NotFound");

    await store.images.delete(ctx, "docker.io/library/alpine:3");
    await expectError(store.images.get(ctx, "docker.io/library/alpine:3"), "NotFound");
    await expectError(store.images.delete(ctx, "docker.io/library/alpine:3"), "NotFound");
  });

  it("refuses duplicates and invalid images as containerd does", async () => {
    const { store } = await setup();
    await store.images.create(ctx, image("x"));
    await expectError(store.images.create(ctx, image("x")), "AlreadyExists");
    await expectError(store.images.create(ctx, image("")), "InvalidArgument");
    await expectError(store.images.create(ctx, image("n".repeat(600))), "InvalidArgument");
    await expectError(store.images.create(ctx, image("y", { target: { mediaType: INDEX, digest: "sha256:abc", size: 1 } })), "InvalidArgument");
    await expectError(store.images.create(ctx, image("y", { target: { mediaType: INDEX, digest: "md5:" + "a".repeat(32), size: 1 } })), "InvalidArgument");
    await expectError(store.images.create(ctx, image("y", { target: { mediaType: INDEX, digest: D1, size: 0 } })), "InvalidArgument");
    await expectError(store.images.create(ctx, image("y", { target: { mediaType: "", digest: D1, size: 1 } })), "InvalidArgument");
    await expectError(store.images.create(ctx, image("y", { labels: { k: "v".repeat(4096) } })), "InvalidArgument");
    await expectError(store.images.create(ns(""), image("y")), "FailedPrecondition");
    await expectError(store.images.create(ns("bad ns"), image("y")), "InvalidArgument");
    expect((await store.images.list(ctx, [])).map((i) => i.name)).toEqual(["x"]);
  });

  it("updates by fieldpath, keeping createdAt and moving updatedAt", async () => {
    const { store } = await setup();
    const created = await store.images.create(
      ctx,
      image("img", { labels: { keep: "k", drop: "d" }, target: { mediaType: INDEX, digest: D1, size: 100, annotations: { a: "1" } } }),
    );
    await sleep(5);
    const incoming = image("img", {
      labels: { add: "new", keep: "changed" },
      target: { mediaType: MANIFEST, digest: D2, size: 200, annotations: { b: "2" } },
    });

    let u = await store.images.update(ctx, incoming, ["labels.add", "labels.drop"]);
    expect(u.labels).toEqual({ keep: "k", add: "new" });
    expect(u.target.digest).toBe(D1);
    expect(u.createdAt).toEqual(created.createdAt);
    expect(u.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());

    u = await store.images.update(ctx, incoming, ["annotations.b"]);
    expect(u.target).toEqual({ mediaType: INDEX, digest: D1, size: 100, annotations: { a: "1", b: "2" } });

    u = await store.images.update(ctx, incoming, ["annotations"]);
    expect(u.target.annotations).toEqual({ b: "2" });

    u = await store.images.update(ctx, incoming, ["target"]);
    expect(u.target).toEqual({ mediaType: MANIFEST, digest: D2, size: 200, annotations: { b: "2" } });
    expect(u.labels).toEqual({ keep: "k", add: "new" });

    u = await store.images.update(ctx, { ...incoming, labels: { only: "one" } }, ["labels"]);
    expect(u.labels).toEqual({ only: "one" });

    // No fieldpaths: everything is replaced.
    u = await store.images.update(ctx, image("img", { labels: { full: "yes" } }), []);
    expect(u.labels).toEqual({ full: "yes" });
    expect(u.target).toEqual({ mediaType: INDEX, digest: D1, size: 100 });
    expect(u.createdAt).toEqual(created.createdAt);
    expect(await store.images.get(ctx, "img")).toEqual(u);
  });

  it("refuses bad updates and leaves the image as it was", async () => {
    const { store } = await setup();
    const created = await store.images.create(ctx, image("img", { labels: { a: "1" } }));
    await expectError(store.images.update(ctx, image("missing"), []), "NotFound");
    await expectError(store.images.update(ctx, image(""), []), "InvalidArgument");
    await expectError(store.images.update(ctx, image("img"), ["name"]), "InvalidArgument");
    await expectError(store.images.update(ctx, image("img"), ["createdat"]), "InvalidArgument");
    // The mask applies, then validation fails: nothing is written.
    await expectError(
      store.images.update(ctx, image("img", { target: { mediaType: "", digest: D2, size: 5 } }), ["labels.b", "target"]),
      "InvalidArgument",
    );
    expect(await store.images.get(ctx, "img")).toEqual(created);
  });

  it("filters on containerd's field names", async () => {
    const { store } = await setup();
    await store.images.create(ctx, image("docker.io/library/a:1", { labels: { tier: "web", "x.y": "dotted" } }));
    await store.images.create(ctx, image("docker.io/library/b:1", { target: { mediaType: MANIFEST, digest: D2, size: 5 } }));
    await store.images.create(ctx, image("example.com/c:2", { labels: { tier: "db" } }));
    const names = async (filters: string[]) => (await store.images.list(ctx, filters)).map((i) => i.name);

    expect(await names(["name==docker.io/library/a:1"])).toEqual(["docker.io/library/a:1"]);
    expect(await names(["name~=^docker.io/"])).toEqual(["docker.io/library/a:1", "docker.io/library/b:1"]);
    expect(await names([`target.digest==${D2}`])).toEqual(["docker.io/library/b:1"]);
    expect(await names([`target.mediatype==${INDEX}`])).toEqual(["docker.io/library/a:1", "example.com/c:2"]);
    expect(await names(["labels.tier==web"])).toEqual(["docker.io/library/a:1"]);
    expect(await names(["labels.tier"])).toEqual(["docker.io/library/a:1", "example.com/c:2"]);
    expect(await names(['labels."x.y"==dotted'])).toEqual(["docker.io/library/a:1"]);
    expect(await names(["labels.tier==web", "labels.tier==db"])).toEqual(["docker.io/library/a:1", "example.com/c:2"]);
    expect(await names(["labels.tier==web,name~=c:2$"])).toEqual([]);
    await expectError(store.images.list(ctx, ["name=="]), "InvalidArgument");
  });

  it("puts an expiring image created under a lease into that lease", async () => {
    const { store } = await setup();
    await store.leases.create(ctx, { id: "pull", labels: {} });
    await store.images.create(ns("default", "pull"), image("plain"));
    await store.images.create(ns("default", "pull"), image("temp", { labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" } }));
    expect(await store.leases.listResources(ctx, "pull")).toEqual([{ type: "images", id: "temp" }]);
    await store.images.delete(ns("default", "pull"), "temp");
    expect(await store.leases.listResources(ctx, "pull")).toEqual([]);
  });
});
