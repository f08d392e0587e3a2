import { describe, expect, it } from "vitest";
import { containersApi, eventPayloads, unpackAny } from "@berth/api";
import { createContainersService } from "../src/index.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { collect, errClass, handlers, msg } from "./helpers.js";

const ns = callContext({ namespace: "default" });
const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new TextEncoder().encode('{"ociVersion":"1.0.2"}') };
const runcOptions = { typeUrl: "containerd.runc.v1.Options", value: new Uint8Array([8, 1]) };

function setup() {
  const metadata = new MemoryMetadata();
  const publisher = new RecordingPublisher();
  const containers = handlers(createContainersService(metadata, publisher), containersApi.Containers);
  const create = (id: string, labels: Record<string, string> = {}) =>
    containers.create(
      msg(containersApi.CreateContainerRequestSchema, {
        container: {
          id,
          labels,
          image: "docker.io/library/busybox:latest",
          runtime: { name: "io.containerd.runc.v2", options: runcOptions },
          spec,
          snapshotter: "overlayfs",
          snapshotKey: id,
          extensions: { ext: { typeUrl: "x.Ext", value: new Uint8Array([1, 2]) } },
          sandbox: "",
        },
      }),
      ns,
    );
  return { metadata, publisher, containers, create };
}

describe("containers service", () => {
  it("creates a container carrying spec, runtime options and extensions unchanged; publishes /containers/create", async () => {
    const { containers, create, publisher } = setup();
    const { container } = await create("c1", { a: "b" });
    expect(container).toMatchObject({ id: "c1", labels: { a: "b" }, runtime: { name: "io.containerd.runc.v2", options: runcOptions }, spec, snapshotter: "overlayfs" });
    expect(container?.extensions?.ext?.value).toEqual(new Uint8Array([1, 2]));
    const got = await containers.get(msg(containersApi.GetContainerRequestSchema, { id: "c1" }), ns);
    expect(got.container).toEqual(container);
    expect(publisher.topics()).toEqual(["default /containers/create"]);
    expect(unpackAny(eventPayloads.ContainerCreateSchema, publisher.events[0]!.event)).toMatchObject({
      id: "c1",
      image: "docker.io/library/busybox:latest",
      runtime: { name: "io.containerd.runc.v2", options: { typeUrl: runcOptions.typeUrl } },
    });
  });

  it("maps errors: AlreadyExists, NotFound, InvalidArgument (bad id, no runtime), FailedPrecondition without namespace", async () => {
    const { containers, create } = setup();
    await create("c1");
    expect(await errClass(create("c1"))).toBe("AlreadyExists");
    expect(await errClass(create("bad id"))).toBe("InvalidArgument");
    expect(await errClass(containers.create(msg(containersApi.CreateContainerRequestSchema, { container: { id: "c2" } }), ns))).toBe("InvalidArgument");
    expect(await errClass(containers.create(msg(containersApi.CreateContainerRequestSchema, {}), ns))).toBe("InvalidArgument");
    expect(await errClass(containers.get(msg(containersApi.GetContainerRequestSchema, { id: "nope" }), ns))).toBe("NotFound");
    expect(await errClass(containers.get(msg(containersApi.GetContainerRequestSchema, { id: "c1" }), callContext()))).toBe("FailedPrecondition");
  });

  it("List and ListStream agree, with filters; malformed filter InvalidArgument", async () => {
    const { containers, create } = setup();
    await create("c1", { role: "web" });
    await create("c2", { role: "db" });
    const list = await containers.list(msg(containersApi.ListContainersRequestSchema, { filters: ["labels.role==web"] }), ns);
    expect(list.containers!.map((c) => c.id)).toEqual(["c1"]);
    const stream = await collect(containers.listStream(msg(containersApi.ListContainersRequestSchema, {}), ns));
    expect(stream.map((m) => m.container?.id).sort()).toEqual(["c1", "c2"]);
    expect(await errClass(containers.list(msg(containersApi.ListContainersRequestSchema, { filters: ["id=="] }), ns))).toBe("InvalidArgument");
    expect(await errClass(collect(containers.listStream(msg(containersApi.ListContainersRequestSchema, { filters: ["id~="] }), ns)))).toBe("InvalidArgument");
  });

  it("updates by mask and publishes /containers/update; an empty id is InvalidArgument", async () => {
    const { containers, create, publisher } = setup();
    await create("c1", { a: "b" });
    const res = await containers.update(
      msg(containersApi.UpdateContainerRequestSchema, { container: { id: "c1", labels: { k: "v" }, image: "other:1" }, updateMask: { paths: ["labels.k", "image"] } }),
      ns,
    );
    expect(res.container).toMatchObject({ id: "c1", labels: { a: "b", k: "v" }, image: "other:1", snapshotter: "overlayfs" });
    expect(await errClass(containers.update(msg(containersApi.UpdateContainerRequestSchema, { container: { id: "" } }), ns))).toBe("InvalidArgument");
    expect(await errClass(containers.update(msg(containersApi.UpdateContainerRequestSchema, { container: { id: "nope" } }), ns))).toBe("NotFound");
    const update = publisher.events.find((e) => e.topic === "/containers/update")!;
    expect(unpackAny(eventPayloads.ContainerUpdateSchema, update.event)).toMatchObject({ id: "c1", image: "other:1", labels: { a: "b", k: "v" }, snapshotKey: "c1" });
  });

  it("deletes and publishes /containers/delete", async () => {
    const { containers, create, publisher } = setup();
    await create("c1");
    await containers.delete(msg(containersApi.DeleteContainerRequestSchema, { id: "c1" }), ns);
    expect(await errClass(containers.delete(msg(containersApi.DeleteContainerRequestSchema, { id: "c1" }), ns))).toBe("NotFound");
    expect(publisher.topics()).toEqual(["default /containers/create", "default /containers/delete"]);
    expect(unpackAny(eventPayloads.ContainerDeleteSchema, publisher.events[1]!.event)?.id).toBe("c1");
  });
});
