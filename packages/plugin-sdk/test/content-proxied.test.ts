// A content store served by the SDK and used through @berth/proxy's client: blobs written,
// resumed, restarted, committed, read back, labelled, listed and deleted over the wire, with
// errdefs classes surviving the trip.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLocalContentStore } from "@berth/content-local";
import { classOf, type ContentStore, type OpContext } from "@berth/core";
import { connectProxy, createProxyContentStore } from "@berth/proxy";
import { serveContentStore } from "../src/index.js";
import { tempDir } from "./helpers.js";

const ctx: OpContext = { namespace: "default" };
const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const bytes = (text: string) => new TextEncoder().encode(text);

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

async function proxiedContent(): Promise<ContentStore> {
  const dir = await tempDir("berth-sdkc-");
  const backend = await createLocalContentStore(join(dir, "content"));
  const server = await serveContentStore(backend, { address: join(dir, "c.sock") });
  const conn = connectProxy(server.address);
  disposers.push(async () => {
    conn.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return createProxyContentStore(conn, "proxied-content");
}

async function readAll(store: ContentStore, digest: string, opts?: { offset?: number; size?: number }): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of store.read(ctx, digest, opts)) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe("a content store served by the SDK, used through @berth/proxy", () => {
  it("writes, resumes, commits and reads a blob", async () => {
    const store = await proxiedContent();
    const blob = bytes("hello proxied content");
    const first = await store.writer(ctx, { ref: "r1", total: blob.length, expected: sha256(blob) });
    expect(await first.write(blob.subarray(0, 5))).toBe(5);
    // Another writer on the same ref is refused while the first holds it.
    expect(classOf(await store.writer(ctx, { ref: "r1" }).catch((e: unknown) => e))).toBe("Unavailable");
    await first.close();

    const resumed = await store.writer(ctx, { ref: "r1", total: blob.length, expected: sha256(blob) });
    expect((await resumed.status()).offset).toBe(5);
    expect(await resumed.write(blob.subarray(5))).toBe(blob.length);
    expect(resumed.digest()).toBe(sha256(blob));
    const info = await resumed.commit(blob.length, sha256(blob), { "x.test/kind": "greeting" });
    expect(info).toMatchObject({ digest: sha256(blob), size: blob.length, labels: { "x.test/kind": "greeting" } });

    expect(await readAll(store, info.digest)).toBe("hello proxied content");
    expect(await readAll(store, info.digest, { offset: 6, size: 7 })).toBe("proxied");
    const updated = await store.update(ctx, { digest: info.digest, labels: { "x.test/kind": "changed" } }, ["labels.x.test/kind"]);
    expect(updated.labels).toEqual({ "x.test/kind": "changed" });
    const listed: string[] = [];
    for await (const i of store.walk(ctx, [])) listed.push(i.digest);
    expect(listed).toEqual([info.digest]);
    await store.delete(ctx, info.digest);
    expect(classOf(await store.info(ctx, info.digest).catch((e: unknown) => e))).toBe("NotFound");
  });

  it("restarts an ingest truncated to 0, reports statuses and aborts", async () => {
    const store = await proxiedContent();
    const w = await store.writer(ctx, { ref: "r2" });
    await w.write(bytes("wrong start"));
    await w.truncate(0);
    await w.write(bytes("right"));
    await w.close();
    expect((await store.status(ctx, "r2")).offset).toBe(5);
    expect((await store.listStatuses(ctx, [])).map((s) => s.ref)).toEqual(["r2"]);
    await store.abort(ctx, "r2");
    expect(classOf(await store.status(ctx, "r2").catch((e: unknown) => e))).toBe("NotFound");
  });

  it("fails a commit with the wrong digest as FailedPrecondition and keeps the ingest", async () => {
    const store = await proxiedContent();
    const w = await store.writer(ctx, { ref: "r3" });
    await w.write(bytes("abc"));
    expect(classOf(await w.commit(3, sha256(bytes("xyz"))).catch((e: unknown) => e))).toBe("FailedPrecondition");
    expect((await store.status(ctx, "r3")).offset).toBe(3);
  });
});
