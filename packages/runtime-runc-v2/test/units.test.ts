import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { packAny, runcOptions, shimTaskApi } from "@berth/api";
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { encodeDeleteResponse } from "../src/delete/delete-response.js";
import { sha256Hex } from "../src/start/sha256.js";
import {
  decodeShimCgroup,
  groupMode,
  parseShimFlags,
  shimFlagArgs,
  shimGroup,
  shimSocketAddress,
  stdioTarget,
} from "../src/index.js";

describe("shim flags", () => {
  it("parse containerd's start command line, Go flag style", () => {
    const flags = parseShimFlags(["-namespace", "default", "-address", "/run/containerd/containerd.sock", "-publish-binary", "/usr/bin/containerd", "-id", "c1", "-debug", "start"]);
    expect(flags).toMatchObject({ namespace: "default", address: "/run/containerd/containerd.sock", publishBinary: "/usr/bin/containerd", id: "c1", debug: true, action: "start" });
    expect(parseShimFlags(["--namespace=ns", "-id=x", "-bundle", "/b", "delete"])).toMatchObject({ namespace: "ns", id: "x", bundle: "/b", action: "delete" });
    expect(parseShimFlags(["-namespace", "ns", "-id", "x"]).action).toBe("");
    expect(parseShimFlags(["-v"]).version).toBe(true);
  });

  it("refuse unknown flags and flags without values", () => {
    expect(() => parseShimFlags(["-nope", "x"])).toThrow(/not defined: -nope/);
    expect(() => parseShimFlags(["-id"])).toThrow(/needs an argument: -id/);
  });

  it("round-trip into the server's arguments", () => {
    const flags = parseShimFlags(["-namespace", "n", "-address", "/a", "-publish-binary", "/p", "-id", "i", "-debug", "start"]);
    expect(parseShimFlags(shimFlagArgs(flags))).toEqual({ ...flags, action: "" });
  });
});

describe("shim groups", () => {
  it("follow Berth's, runc's and CRI's annotations in that order, else the mode", () => {
    expect(shimGroup("c1", {}, "container")).toBe("c1");
    expect(shimGroup("c1", undefined, "namespace")).toBe("@namespace");
    expect(shimGroup("c1", { "io.kubernetes.cri.sandbox-id": "pod" }, "namespace")).toBe("pod");
    expect(shimGroup("c1", { "io.kubernetes.cri.sandbox-id": "pod", "io.containerd.runc.v2.group": "g" }, "container")).toBe("g");
    expect(shimGroup("c1", { "io.containerd.runc.v2.group": "g", "io.containerd.berth.v2.group": "b" }, "container")).toBe("b");
  });

  it("read BERTH_SHIM_GROUP, refusing values it does not know", () => {
    expect(groupMode({})).toBe("namespace");
    expect(groupMode({ BERTH_SHIM_GROUP: "container" })).toBe("container");
    expect(groupMode({ BERTH_SHIM_GROUP: "Namespace" })).toBe("namespace");
    expect(() => groupMode({ BERTH_SHIM_GROUP: "pod" })).toThrow(/container.*namespace/);
  });

  it("hash address, namespace and group into containerd's socket path", () => {
    // sha256("/run/containerd/containerd.sock/default/c1"), as containerd computes it.
    expect(shimSocketAddress("/run/containerd/containerd.sock", "default", "c1")).toBe(
      "unix:///run/containerd/s/d25aa4ef11a84e954e74a5bcff06557d0b6ea8d0c00243896f29826694bbd888",
    );
    expect(shimSocketAddress("/a", "n", "g", "/tmp/s")).toMatch(/^unix:\/\/\/tmp\/s\/[0-9a-f]{64}$/);
  });
});

describe("sha256Hex", () => {
  it("matches node:crypto on empty, block-edge, multi-block and non-ASCII input", () => {
    for (const text of ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "a".repeat(119), "x".repeat(1000), "/run/containerd/containerd.sock/ns/grüße"]) {
      expect(sha256Hex(text)).toBe(createHash("sha256").update(text).digest("hex"));
    }
  });
});

describe("stdio targets", () => {
  const io = (stdout: string, extra: Partial<{ stdin: string; stderr: string }> = {}) => ({ stdin: "", stderr: "", terminal: false, stdout, ...extra });
  it("tell FIFOs, files, logging binaries and nothing apart, as containerd does", () => {
    expect(stdioTarget(io(""))).toEqual({ kind: "null" });
    expect(stdioTarget(io("/run/containerd/fifo/1/c-stdout"))).toEqual({ kind: "fifo" });
    expect(stdioTarget(io("fifo:///x"))).toEqual({ kind: "fifo" });
    expect(stdioTarget(io("", { stdin: "/in" }))).toEqual({ kind: "fifo" });
    expect(stdioTarget(io("file:///var/log/c%201.log"))).toEqual({ kind: "file", path: "/var/log/c 1.log" });
    expect(stdioTarget(io("binary:///usr/bin/logger?--tag=x&-v&--tag=y"))).toEqual({ kind: "binary", path: "/usr/bin/logger", args: ["--tag", "x", "-v"] });
    expect(() => stdioTarget(io("tcp://x"))).toThrow(/unknown STDIO scheme tcp/);
  });
});

describe("runtime options on start's stdin", () => {
  it("yield ShimCgroup from a packed containerd.runc.v1.Options, and nothing from others", () => {
    const any = (typeUrl: string, value: Uint8Array) => toBinary(AnySchema, create(AnySchema, { typeUrl, value }));
    const options = packAny(runcOptions.OptionsSchema, { binaryName: "crun", shimCgroup: "/shims", root: "/r" });
    expect(decodeShimCgroup(any(options.typeUrl, options.value))).toBe("/shims");
    expect(decodeShimCgroup(any(`types.containerd.io/${options.typeUrl}`, options.value))).toBe("/shims");
    expect(decodeShimCgroup(any("runtimeoptions.v1.Options", options.value))).toBeUndefined();
    expect(decodeShimCgroup(new Uint8Array())).toBeUndefined();
  });
});

describe("wire encodings written by hand", () => {
  it("DeleteResponse decodes with the generated schema", () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const decoded = fromBinary(shimTaskApi.DeleteResponseSchema, encodeDeleteResponse(4242, 137, at));
    expect(decoded.pid).toBe(4242);
    expect(decoded.exitStatus).toBe(137);
    expect(Number(decoded.exitedAt!.seconds)).toBe(Math.floor(at.getTime() / 1000));
    expect(decoded.exitedAt!.nanos).toBe(678_000_000);
  });
});
