import { describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fixtureBlob } from "./support/fixtures.js";
import { newResolver, onCleanup, readAll, rejection } from "./support/helpers.js";
import { startProxy } from "./support/proxy.js";

const registry = inject("fixtureRegistry");
const fixtures = inject("fixtures");
const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.tiny.layers![0]! };

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
});
