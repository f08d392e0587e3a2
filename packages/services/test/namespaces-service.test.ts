import { describe, expect, it } from "vitest";
import { eventPayloads, namespacesApi, unpackAny } from "@berth/api";
import { createNamespacesService } from "../src/index.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { errClass, handlers, msg } from "./helpers.js";

function setup() {
  const metadata = new MemoryMetadata();
  const publisher = new RecordingPublisher();
  const ns = handlers(createNamespacesService(metadata, publisher), namespacesApi.Namespaces);
  return { metadata, publisher, ns };
}

// Namespace calls carry no namespace header: the namespace is the request's subject.
const noHeader = callContext();

describe("namespaces service", () => {
  it("creates, gets, lists, and publishes /namespaces/create in the new namespace", async () => {
    const { ns, publisher } = setup();
    const res = await ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, { namespace: { name: "x", labels: { a: "b" } } }), noHeader);
    expect(res.namespace).toEqual({ name: "x", labels: { a: "b" } });
    expect((await ns.get(msg(namespacesApi.GetNamespaceRequestSchema, { name: "x" }), noHeader)).namespace).toEqual({ name: "x", labels: { a: "b" } });
    await ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, { namespace: { name: "y" } }), noHeader);
    const list = await ns.list(msg(namespacesApi.ListNamespacesRequestSchema, {}), noHeader);
    expect(list.namespaces?.map((n) => n.name)).toEqual(["x", "y"]);

    expect(publisher.topics()).toEqual(["x /namespaces/create", "y /namespaces/create"]);
    const event = unpackAny(eventPayloads.NamespaceCreateSchema, publisher.events[0]!.event);
    expect(event).toMatchObject({ name: "x", labels: { a: "b" } });
  });

  it("maps store errors: AlreadyExists, NotFound, InvalidArgument for a bad name", async () => {
    const { ns, publisher } = setup();
    const create = (name: string) => ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, { namespace: { name } }), noHeader);
    await create("x");
    expect(await errClass(create("x"))).toBe("AlreadyExists");
    expect(await errClass(create("bad name!"))).toBe("InvalidArgument");
    expect(await errClass(ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, {}), noHeader))).toBe("InvalidArgument");
    expect(await errClass(ns.get(msg(namespacesApi.GetNamespaceRequestSchema, { name: "nope" }), noHeader))).toBe("NotFound");
    expect(await errClass(ns.delete(msg(namespacesApi.DeleteNamespaceRequestSchema, { name: "nope" }), noHeader))).toBe("NotFound");
    expect(publisher.topics()).toEqual(["x /namespaces/create"]);
  });

  it("updates one label per mask path (empty value removes it), or all labels without a mask", async () => {
    const { ns, publisher } = setup();
    await ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, { namespace: { name: "x", labels: { a: "b", k: "v" } } }), noHeader);
    const update = (labels: Record<string, string>, paths?: string[]) =>
      ns.update(
        msg(namespacesApi.UpdateNamespaceRequestSchema, { namespace: { name: "x", labels }, ...(paths ? { updateMask: { paths } } : {}) }),
        noHeader,
      );
    expect((await update({ c: "d" }, ["labels.c"])).namespace?.labels).toEqual({ a: "b", k: "v", c: "d" });
    expect((await update({}, ["labels.k"])).namespace?.labels).toEqual({ a: "b", c: "d" });
    expect((await update({ only: "1" })).namespace?.labels).toEqual({ only: "1" });
    expect(await errClass(update({}, ["name"]))).toBe("InvalidArgument");
    expect(await errClass(update({}, ["labels"]))).toBe("InvalidArgument");

    const updates = publisher.events.filter((e) => e.topic === "/namespaces/update");
    expect(updates.map((e) => e.namespace)).toEqual(["x", "x", "x"]);
    expect(unpackAny(eventPayloads.NamespaceUpdateSchema, updates[0]!.event)).toMatchObject({ name: "x", labels: { c: "d" } });
  });

  it("deletes an empty namespace (FailedPrecondition while it holds something) and publishes /namespaces/delete", async () => {
    const { ns, metadata, publisher } = setup();
    await ns.create(msg(namespacesApi.CreateNamespaceRequestSchema, { namespace: { name: "x" } }), noHeader);
    await metadata.leases.create({ namespace: "x" }, { id: "l1", labels: {} });
    expect(await errClass(ns.delete(msg(namespacesApi.DeleteNamespaceRequestSchema, { name: "x" }), noHeader))).toBe("FailedPrecondition");
    await metadata.leases.delete({ namespace: "x" }, "l1");
    await ns.delete(msg(namespacesApi.DeleteNamespaceRequestSchema, { name: "x" }), noHeader);
    expect(publisher.topics()).toEqual(["x /namespaces/create", "x /namespaces/delete"]);
    expect(unpackAny(eventPayloads.NamespaceDeleteSchema, publisher.events[1]!.event)).toMatchObject({ name: "x" });
  });
});
