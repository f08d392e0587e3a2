import { describe, expect, it } from "vitest";
import { leasesApi } from "@berth/api";
import { validateIdentifier } from "@berth/core";
import { createLeasesService, randomLeaseId } from "../src/index.js";
import { MemoryMetadata, callContext } from "./fakes.js";
import { errClass, handlers, msg } from "./helpers.js";

const ns = callContext({ namespace: "default" });
const DIGEST = `sha256:${"c".repeat(64)}`;

function setup() {
  const metadata = new MemoryMetadata();
  const leases = handlers(createLeasesService(metadata), leasesApi.Leases);
  return { metadata, leases };
}

describe("leases service", () => {
  it("creates with the given id and labels, or a generated id in containerd's form", async () => {
    const { leases } = setup();
    const { lease } = await leases.create(msg(leasesApi.CreateRequestSchema, { id: "l1", labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" } }), ns);
    expect(lease).toMatchObject({ id: "l1", labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" } });
    expect(lease?.createdAt?.seconds).toBeGreaterThan(0n);
    const generated = await leases.create(msg(leasesApi.CreateRequestSchema, {}), ns);
    expect(generated.lease?.id).toMatch(/^\d+-[A-Za-z0-9_-]{4}$/);
    expect(await errClass(leases.create(msg(leasesApi.CreateRequestSchema, { id: "l1" }), ns))).toBe("AlreadyExists");
    expect(await errClass(leases.create(msg(leasesApi.CreateRequestSchema, { id: "l1" }), callContext()))).toBe("FailedPrecondition");
  });

  it("generated ids are always valid identifiers", () => {
    for (let i = 0; i < 2000; i++) validateIdentifier(randomLeaseId());
  });

  it("lists with filters; malformed filter InvalidArgument", async () => {
    const { leases } = setup();
    await leases.create(msg(leasesApi.CreateRequestSchema, { id: "a", labels: { x: "1" } }), ns);
    await leases.create(msg(leasesApi.CreateRequestSchema, { id: "b" }), ns);
    const list = (filters: string[]) => leases.list(msg(leasesApi.ListRequestSchema, { filters }), ns).then((r) => r.leases!.map((l) => l.id).sort());
    expect(await list([])).toEqual(["a", "b"]);
    expect(await list(["labels.x"])).toEqual(["a"]);
    expect(await list(["id==b"])).toEqual(["b"]);
    expect(await errClass(list(["id=="]))).toBe("InvalidArgument");
  });

  it("adds, lists and deletes resources; deletes leases (sync accepted); NotFound for missing leases", async () => {
    const { leases } = setup();
    await leases.create(msg(leasesApi.CreateRequestSchema, { id: "l" }), ns);
    const resource = { id: DIGEST, type: "content" };
    await leases.addResource(msg(leasesApi.AddResourceRequestSchema, { id: "l", resource }), ns);
    await leases.addResource(msg(leasesApi.AddResourceRequestSchema, { id: "l", resource: { id: "ref-1", type: "ingests" } }), ns);
    const listed = await leases.listResources(msg(leasesApi.ListResourcesRequestSchema, { id: "l" }), ns);
    expect(listed.resources!.map((r) => ({ id: r.id, type: r.type }))).toEqual([resource, { id: "ref-1", type: "ingests" }]);
    await leases.deleteResource(msg(leasesApi.DeleteResourceRequestSchema, { id: "l", resource }), ns);
    expect((await leases.listResources(msg(leasesApi.ListResourcesRequestSchema, { id: "l" }), ns)).resources).toHaveLength(1);

    expect(await errClass(leases.addResource(msg(leasesApi.AddResourceRequestSchema, { id: "l" }), ns))).toBe("InvalidArgument");
    expect(await errClass(leases.addResource(msg(leasesApi.AddResourceRequestSchema, { id: "l", resource: { id: "x", type: "bogus" } }), ns))).toBe(
      "InvalidArgument",
    );
    expect(await errClass(leases.addResource(msg(leasesApi.AddResourceRequestSchema, { id: "nope", resource }), ns))).toBe("NotFound");
    expect(await errClass(leases.listResources(msg(leasesApi.ListResourcesRequestSchema, { id: "nope" }), ns))).toBe("NotFound");

    await leases.delete(msg(leasesApi.DeleteRequestSchema, { id: "l", sync: true }), ns);
    expect(await errClass(leases.delete(msg(leasesApi.DeleteRequestSchema, { id: "l" }), ns))).toBe("NotFound");
  });
});
