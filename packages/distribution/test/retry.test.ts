import { describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fixtureBlob, startProxy } from "@berth/testing";
import { newResolver, onCleanup, readAll, rejection, sha256 } from "./support/helpers.js";

const registry = inject("fixtureRegistry");
const fixtures = inject("fixtures");
const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.tiny.layers![0]! };
const bigLayer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.multi.layers![2]! };

async function proxy() {
  const p = await startProxy(registry);
  onCleanup(() => p.close());
  return p;
}

describe("retries with backoff", () => {
  it("repeats a resolve the registry answers with 503, then succeeds", async () => {
    const p = await proxy();
    p.fail(2, (r) => r.url?.includes("/manifests/") === true, 503);
    const { descriptor } = await newResolver({ plainHttp: true }).resolve(`${p.host}/tiny`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    expect(p.requests.filter((r) => r.path.includes("/manifests/")).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("repeats a blob fetch after 500 and 502", async () => {
    const p = await proxy();
    p.fail(1, (r) => r.url?.includes("/blobs/") === true, 500);
    p.fail(1, (r) => r.url?.includes("/blobs/") === true, 502);
    const bytes = await readAll(newResolver({ plainHttp: true }).fetcher(`${p.host}/tiny`).fetch(layer));
    expect(bytes.equals(fixtureBlob("tiny", layer.digest))).toBe(true);
    expect(p.requests.filter((r) => r.path.includes("/blobs/")).map((r) => r.status)).toEqual([500, 502, 200]);
  });

  it("reconnects after connections dropped before any response", async () => {
    const p = await proxy();
    p.drop(3);
    const { descriptor } = await newResolver({ plainHttp: true }).resolve(`${p.host}/tiny`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    expect(p.requests.map((r) => r.status).slice(0, 4)).toEqual([-1, -1, -1, 200]);
  });

  it("gives up after the policy's attempts with Unavailable naming the status", async () => {
    const p = await proxy();
    p.fail(100, () => true, 503);
    const resolver = newResolver({ plainHttp: true, retry: { attempts: 4 } });
    const err = await rejection(resolver.resolve(`${p.host}/tiny`));
    expect(classOf(err)).toBe("Unavailable");
    expect(err.message).toContain("503 Service Unavailable");
    expect(err.message).toContain(`${p.host}/tiny:latest`);
    expect(p.requests).toHaveLength(4);
  });

  it("does not repeat a client error", async () => {
    const p = await proxy();
    p.fail(1, () => true, 400);
    const err = await rejection(newResolver({ plainHttp: true }).resolve(`${p.host}/tiny`));
    expect(classOf(err)).toBe("InvalidArgument");
    expect(p.requests).toHaveLength(1);
  });

  it("reports a registry that is not there as Unavailable, at once", async () => {
    const p = await proxy();
    const host = p.host;
    await p.close();
    const err = await rejection(newResolver({ plainHttp: true }).resolve(`${host}/tiny`));
    expect(classOf(err)).toBe("Unavailable");
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it("reconnects with a Range by itself when the connection drops mid-blob", async () => {
    const p = await proxy();
    // Two drops on the same blob: at 5 MiB, then 3 MiB into the resumed response.
    p.cut(5 << 20, (r) => r.url?.includes(bigLayer.digest) === true && r.headers.range === undefined);
    p.cut(3 << 20, (r) => r.url?.includes(bigLayer.digest) === true && r.headers.range !== undefined);
    const bytes = await readAll(newResolver({ plainHttp: true }).fetcher(`${p.host}/multi`).fetch(bigLayer));
    expect(bytes.byteLength).toBe(bigLayer.size);
    expect(sha256(bytes)).toBe(bigLayer.digest);
    const requests = p.requests.filter((r) => r.path.includes(bigLayer.digest) && r.method === "GET");
    // Each reconnect asks for the bytes after the last one consumed. Bytes still in flight when
    // a connection breaks may be lost, so a resume can start a little earlier, never later.
    const offsets = requests.map((r) => (r.range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(r.range)?.[1])));
    expect(offsets).toHaveLength(3);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBeGreaterThan(4 << 20);
    expect(offsets[1]).toBeLessThanOrEqual(5 << 20);
    expect(offsets[2]).toBeGreaterThan(offsets[1]! + (2 << 20));
    expect(offsets[2]).toBeLessThanOrEqual(offsets[1]! + (3 << 20));
  });
});
