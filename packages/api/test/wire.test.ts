// Spot checks that the generated API is containerd's on the wire: method paths clients call,
// field numbers seen from raw bytes, and Any packing as containerd's typeurl does it.
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { containersApi, eventPayloads, eventsApi, packAny, shimTaskApi, tasksApi, types, unpackAny, versionApi } from "../src/index.js";

const paths = (service: { typeName: string; methods: { name: string }[] }) => service.methods.map((m) => `/${service.typeName}/${m.name}`);

describe("containerd API on the wire", () => {
  it("services keep containerd's full method names", () => {
    expect(paths(versionApi.Version)).toEqual(["/containerd.services.version.v1.Version/Version"]);
    expect(paths(eventsApi.Events)).toEqual([
      "/containerd.services.events.v1.Events/Publish",
      "/containerd.services.events.v1.Events/Forward",
      "/containerd.services.events.v1.Events/Subscribe",
    ]);
    expect(paths(tasksApi.Tasks)).toContain("/containerd.services.tasks.v1.Tasks/Wait");
    expect(paths(shimTaskApi.Task)).toEqual(expect.arrayContaining(["/containerd.task.v2.Task/Create", "/containerd.task.v2.Task/Shutdown"]));
  });

  it("Mount encodes with containerd's field numbers", () => {
    const bytes = toBinary(types.MountSchema, create(types.MountSchema, { type: "bind", source: "/s", target: "/t", options: ["ro"] }));
    // field 1 "bind", field 2 "/s", field 3 "/t", field 4 "ro"
    expect(Buffer.from(bytes).toString("hex")).toBe("0a0462696e6412022f731a022f742202726f");
  });

  it("Container.runtime.name is field 4.1, spec is field 5", () => {
    // Hand-assembled bytes: id="c" (1), runtime{name="r"} (4), spec Any{type_url="u"} (5)
    const bytes = Buffer.from("0a0163" + "2203" + "0a0172" + "2a03" + "0a0175", "hex");
    const c = fromBinary(containersApi.ContainerSchema, bytes);
    expect(c.id).toBe("c");
    expect(c.runtime?.name).toBe("r");
    expect(c.spec?.typeUrl).toBe("u");
  });

  it("packs event payloads with the bare message name as type URL, and unpacks them", () => {
    const any = packAny(eventPayloads.TaskExitSchema, { containerId: "c1", pid: 42, exitStatus: 3 });
    expect(any.typeUrl).toBe("containerd.events.TaskExit");
    expect(unpackAny(eventPayloads.TaskExitSchema, any)?.exitStatus).toBe(3);
    expect(unpackAny(eventPayloads.TaskExitSchema, { ...any, typeUrl: "types.googleapis.com/containerd.events.TaskExit" })?.pid).toBe(42);
    expect(unpackAny(eventPayloads.TaskStartSchema, any)).toBeUndefined();
  });
});
