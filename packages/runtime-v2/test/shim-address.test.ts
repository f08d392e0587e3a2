import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shimBootstrap } from "@berth/api";
import { classOf } from "@berth/core";
import { parseStartOutput, readShimAddress, writeShimAddress } from "../src/index.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseStartOutput", () => {
  it("reads a containerd 1.x shim's plain address as ttrpc, task API v2", () => {
    expect(parseStartOutput(bytes("unix:///run/containerd/s/abc\n"))).toEqual({ version: 2, protocol: "ttrpc", address: "unix:///run/containerd/s/abc" });
  });

  it("reads containerd 2's JSON form", () => {
    const out = parseStartOutput(bytes('{"version":3,"address":"unix:///run/containerd/s/x","protocol":"ttrpc"}'));
    expect(out).toEqual({ version: 3, protocol: "ttrpc", address: "unix:///run/containerd/s/x" });
  });

  it("takes JSON with a version below 2 as a legacy address, as containerd does", () => {
    const text = '{"version":1,"address":"unix:///x"}';
    expect(parseStartOutput(bytes(text))).toEqual({ version: 2, protocol: "ttrpc", address: text });
  });

  it("reads a binary BootstrapResult (containerd 2.3's bootstrap protocol)", () => {
    const result = toBinary(shimBootstrap.BootstrapResultSchema, create(shimBootstrap.BootstrapResultSchema, { version: 3, address: "unix:///s", protocol: "ttrpc" }));
    expect(parseStartOutput(result)).toEqual({ version: 3, protocol: "ttrpc", address: "unix:///s" });
  });

  it("refuses shims newer than it speaks, and output that is no address", () => {
    expect(classOf(catching(() => parseStartOutput(bytes('{"version":4,"address":"unix:///x","protocol":"ttrpc"}'))))).toBe("NotImplemented");
    expect(classOf(catching(() => parseStartOutput(bytes(""))))).toBe("InvalidArgument");
  });
});

describe("bootstrap.json in the bundle", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-address-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("round-trips what the daemon saves", async () => {
    await writeShimAddress(dir, { version: 2, protocol: "ttrpc", address: "unix:///run/containerd/s/abc" });
    expect(await readShimAddress(dir)).toEqual({ version: 2, protocol: "ttrpc", address: "unix:///run/containerd/s/abc" });
  });

  it("falls back to the `address` file containerd 1.x shims write in their bundle", async () => {
    await writeFile(join(dir, "address"), "unix:///run/containerd/s/legacy");
    expect(await readShimAddress(dir)).toEqual({ version: 2, protocol: "ttrpc", address: "unix:///run/containerd/s/legacy" });
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}
