import { describe, expect, it } from "vitest";
import { eventPayloads, imagesApi, unpackAny } from "@berth/api";
import { createImagesService } from "../src/index.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { errClass, handlers, msg } from "./helpers.js";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const ns = callContext({ namespace: "default" });
const target = (digest: string, size = 100n) => ({ mediaType: MANIFEST, digest, size, annotations: { "org.opencontainers.image.ref.name": "1" } });

function setup() {
  const metadata = new MemoryMetadata();
  const publisher = new RecordingPublisher();
  const images = handlers(createImagesService(metadata, publisher), imagesApi.Images);
  const create = (name: string, labels: Record<string, string> = {}, digest = D1) =>
    images.create(msg(imagesApi.CreateImageRequestSchema, { image: { name, labels, target: target(digest) } }), ns);
  return { metadata, publisher, images, create };
}

describe("images service", () => {
  it("creates and gets an image with its target and times; publishes /images/create", async () => {
    const { images, create, publisher } = setup();
    const { image } = await create("docker.io/library/busybox:latest", { a: "b" });
    expect(image).toMatchObject({ name: "docker.io/library/busybox:latest", labels: { a: "b" }, target: target(D1) });
    expect(image?.createdAt?.seconds).toBeGreaterThan(0n);
    const got = await images.get(msg(imagesApi.GetImageRequestSchema, { name: "docker.io/library/busybox:latest" }), ns);
    expect(got.image).toEqual(image);
    expect(publisher.topics()).toEqual(["default /images/create"]);
    expect(unpackAny(eventPayloads.ImageCreateSchema, publisher.events[0]!.event)).toMatchObject({
      name: "docker.io/library/busybox:latest",
      labels: { a: "b" },
    });
    // ImageCreate lives in containerd.services.images.v1, as containerd's does.
    expect(publisher.events[0]!.event.typeUrl).toBe("containerd.services.images.v1.ImageCreate");
  });

  it("create: empty name InvalidArgument, duplicate AlreadyExists, bad target the store's InvalidArgument, no namespace FailedPrecondition", async () => {
    const { images, create } = setup();
    expect(await errClass(create(""))).toBe("InvalidArgument");
    expect(await errClass(images.create(msg(imagesApi.CreateImageRequestSchema, {}), ns))).toBe("InvalidArgument");
    await create("x");
    expect(await errClass(create("x"))).toBe("AlreadyExists");
    expect(await errClass(create("y", {}, "sha256:nope"))).toBe("InvalidArgument");
    expect(
      await errClass(images.create(msg(imagesApi.CreateImageRequestSchema, { image: { name: "z", target: target(D1) } }), callContext())),
    ).toBe("FailedPrecondition");
  });

  it("lists with filters (malformed: InvalidArgument), per namespace", async () => {
    const { images, create } = setup();
    await create("a", { env: "prod" });
    await create("b", { env: "dev" }, D2);
    const list = (filters: string[], ctx = ns) => images.list(msg(imagesApi.ListImagesRequestSchema, { filters }), ctx).then((r) => r.images!.map((i) => i.name));
    expect((await list([])).sort()).toEqual(["a", "b"]);
    expect(await list(["labels.env==prod"])).toEqual(["a"]);
    expect(await list([`target.digest==${D2}`])).toEqual(["b"]);
    expect(await list(["name==a", "name==b"])).toHaveLength(2);
    expect(await list([], callContext({ namespace: "other" }))).toEqual([]);
    expect(await errClass(list(["name=="]))).toBe("InvalidArgument");
    expect(await errClass(list(["labels.\"unterminated"]))).toBe("InvalidArgument");
  });

  it("updates by mask (labels.<key>, target) or whole; publishes /images/update with the result's labels", async () => {
    const { images, create, publisher } = setup();
    await create("img", { a: "b" });
    const update = (image: { name: string; labels?: Record<string, string>; target?: ReturnType<typeof target> }, paths?: string[]) =>
      images.update(msg(imagesApi.UpdateImageRequestSchema, { image, ...(paths ? { updateMask: { paths } } : {}) }), ns);
    expect((await update({ name: "img", labels: { k: "v" } }, ["labels.k"])).image?.labels).toEqual({ a: "b", k: "v" });
    expect((await update({ name: "img", target: target(D2) }, ["target"])).image?.target?.digest).toBe(D2);
    expect((await update({ name: "img", labels: { only: "1" }, target: target(D1) })).image).toMatchObject({ labels: { only: "1" }, target: { digest: D1 } });
    expect(await errClass(update({ name: "" }))).toBe("InvalidArgument");
    expect(await errClass(update({ name: "missing", target: target(D1) }))).toBe("NotFound");
    expect(await errClass(update({ name: "img" }, ["bogus"]))).toBe("InvalidArgument");

    const updates = publisher.events.filter((e) => e.topic === "/images/update");
    expect(updates).toHaveLength(3);
    expect(unpackAny(eventPayloads.ImageUpdateSchema, updates[0]!.event)).toMatchObject({ name: "img", labels: { a: "b", k: "v" } });
  });

  it("deletes (sync accepted), NotFound when absent, honours an optional target; publishes /images/delete", async () => {
    const { images, create, publisher } = setup();
    await create("img");
    const del = (init: { name: string; sync?: boolean; target?: ReturnType<typeof target> }) => images.delete(msg(imagesApi.DeleteImageRequestSchema, init), ns);
    expect(await errClass(del({ name: "img", target: target(D2) }))).toBe("NotFound");
    await del({ name: "img", sync: true, target: target(D1) });
    expect(await errClass(del({ name: "img" }))).toBe("NotFound");
    expect(publisher.topics()).toEqual(["default /images/create", "default /images/delete"]);
    expect(unpackAny(eventPayloads.ImageDeleteSchema, publisher.events[1]!.event)).toMatchObject({ name: "img" });
  });
});
