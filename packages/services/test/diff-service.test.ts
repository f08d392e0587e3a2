import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { diffApi } from "@berth/api";
import {
  DifferPlugin,
  GrpcPlugin,
  decodePluginConfigs,
  definePlugin,
  internal,
  loadPlugins,
  notImplemented,
  silentLogger,
  type ApplyOptions,
  type Descriptor,
  type Differ,
  type DiffOptions,
  type Mount,
  type OpContext,
  type PluginRegistration,
} from "@berth/core";
import { AnySchema, anyPack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import { create, fromBinary } from "@bufbuild/protobuf";
import { createDiffService, diffGrpcPlugin } from "../src/index.js";
import { callContext } from "./fakes.js";
import { errClass, handlers, msg } from "./helpers.js";

const ns = callContext({ namespace: "default", lease: "l" });
const LAYER = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${"a".repeat(64)}`, size: 42n };
const TAR = { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${"b".repeat(64)}`, size: 1024 };

interface Call {
  what: "apply" | "compare";
  ctx: OpContext;
  args: unknown[];
}

/** A differ that records its calls and answers with `result`, or with the error `fail` makes. */
function recordingDiffer(name: string, calls: (Call & { differ: string })[], fail?: () => Error): Differ {
  return {
    async apply(ctx: OpContext, desc: Descriptor, mounts: readonly Mount[], opts?: ApplyOptions) {
      calls.push({ differ: name, what: "apply", ctx, args: [desc, mounts, opts] });
      if (fail) throw fail();
      return TAR;
    },
    async compare(ctx: OpContext, lower: readonly Mount[], upper: readonly Mount[], opts?: DiffOptions) {
      calls.push({ differ: name, what: "compare", ctx, args: [lower, upper, opts] });
      if (fail) throw fail();
      return { ...LAYER, size: 42 };
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("diff service", () => {
  it("applies a layer onto mounts through the first differ, with the call's namespace, lease and options", async () => {
    const calls: (Call & { differ: string })[] = [];
    const diff = handlers(createDiffService([recordingDiffer("walking", calls)]), diffApi.Diff);
    const payload = anyPack(StringValueSchema, create(StringValueSchema, { value: "p" }));
    const res = await diff.apply(
      msg(diffApi.ApplyRequestSchema, {
        diff: LAYER,
        mounts: [{ type: "overlay", source: "overlay", options: ["lowerdir=/a:/b", "upperdir=/u", "workdir=/w"] }],
        payloads: { "application/x-processor": payload },
      }),
      ns,
    );
    expect(res.applied).toEqual({ ...TAR, size: 1024n, annotations: {} });
    expect(calls).toHaveLength(1);
    const [desc, mounts, opts] = calls[0]!.args as [Descriptor, Mount[], ApplyOptions];
    expect(calls[0]!.ctx).toMatchObject({ namespace: "default", lease: "l" });
    expect(desc).toEqual({ ...LAYER, size: 42 });
    expect(mounts).toEqual([{ type: "overlay", source: "overlay", options: ["lowerdir=/a:/b", "upperdir=/u", "workdir=/w"] }]);
    expect(opts.syncFs).toBe(false);
    const any = fromBinary(AnySchema, opts.payloads!.get("application/x-processor")!);
    expect(any.typeUrl).toBe("type.googleapis.com/google.protobuf.StringValue");
    expect(await errClass(diff.apply(msg(diffApi.ApplyRequestSchema, {}), ns))).toBe("InvalidArgument");
    expect(await errClass(diff.apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), callContext()))).toBe("FailedPrecondition");
  });

  it("computes a diff with the request's media type, ref and labels; empty ones are the differ's defaults", async () => {
    const calls: (Call & { differ: string })[] = [];
    const diff = handlers(createDiffService([recordingDiffer("walking", calls)]), diffApi.Diff);
    const lower = [{ type: "bind", source: "/l", target: "", options: ["ro", "rbind"] }];
    const upper = [{ type: "bind", source: "/u", target: "sub", options: ["ro"] }];
    const res = await diff.diff(msg(diffApi.DiffRequestSchema, { left: lower, right: upper, mediaType: "application/vnd.oci.image.layer.v1.tar", ref: "r", labels: { k: "v" } }), ns);
    expect(res.diff?.digest).toBe(LAYER.digest);
    expect(calls[0]!.args).toEqual([
      [{ type: "bind", source: "/l", options: ["ro", "rbind"] }],
      [{ type: "bind", source: "/u", target: "sub", options: ["ro"] }],
      { mediaType: "application/vnd.oci.image.layer.v1.tar", ref: "r", labels: { k: "v" } },
    ]);
    await diff.diff(msg(diffApi.DiffRequestSchema, {}), ns);
    expect(calls[1]!.args[2]).toEqual({});
  });

  it("tries differs in order past NotImplemented, stops at any other error; none configured is NotImplemented", async () => {
    const calls: (Call & { differ: string })[] = [];
    const skipping = recordingDiffer("skip", calls, () => notImplemented("not my media type"));
    const broken = recordingDiffer("broken", calls, () => internal("broke"));
    const walking = recordingDiffer("walking", calls);
    const diff = handlers(createDiffService([skipping, walking, broken]), diffApi.Diff);
    await diff.apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), ns);
    expect(calls.map((c) => c.differ)).toEqual(["skip", "walking"]);
    const failing = handlers(createDiffService([broken, walking]), diffApi.Diff);
    expect(await errClass(failing.diff(msg(diffApi.DiffRequestSchema, {}), ns))).toBe("Internal");
    const allSkip = handlers(createDiffService([skipping]), diffApi.Diff);
    expect(await errClass(allSkip.apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), ns))).toBe("NotImplemented");
    const none = handlers(createDiffService([]), diffApi.Diff);
    expect(await errClass(none.apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), ns))).toBe("NotImplemented");
  });

  it("sync_fs in the service's config forces syncFs on every apply", async () => {
    const calls: (Call & { differ: string })[] = [];
    const diff = handlers(createDiffService([recordingDiffer("walking", calls)], { syncFs: true }), diffApi.Diff);
    await diff.apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), ns);
    expect((calls[0]!.args[2] as ApplyOptions).syncFs).toBe(true);
  });
});

describe("io.containerd.grpc.v1.diff", () => {
  async function load(differs: string[], tables: Record<string, unknown> = {}) {
    const root = await mkdtemp(join(tmpdir(), "berth-diff-plugin-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const calls: (Call & { differ: string })[] = [];
    const plugins = [
      diffGrpcPlugin,
      ...differs.map((id) => definePlugin({ type: DifferPlugin, id, init: () => recordingDiffer(id, calls, id === "first" ? () => notImplemented("no") : undefined) })),
    ] as PluginRegistration[];
    const { configs } = decodePluginConfigs(plugins, tables, "test.toml");
    const loaded = await loadPlugins({
      plugins,
      configs,
      disabled: [],
      required: [],
      daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
      log: silentLogger,
    });
    cleanups.push(() => loaded.close());
    return { loaded, calls };
  }

  it("uses the walking differ by default and fails, naming it, when it is not loaded", async () => {
    const ok = await load(["walking"]);
    expect(ok.loaded.statuses().find((s) => s.uri === "io.containerd.grpc.v1.diff")?.state).toBe("ok");
    const missing = await load([]);
    const status = missing.loaded.statuses().find((s) => s.uri === "io.containerd.grpc.v1.diff");
    expect(status?.state).toBe("error");
    expect(status?.error?.message).toMatch(/needed differ not loaded: walking/);
  });

  it("takes the order of differs from `default` in its config", async () => {
    const { loaded, calls } = await load(["first", "walking"], { "io.containerd.grpc.v1.diff": { default: ["first", "walking"] } });
    const service = loaded.get(GrpcPlugin, "diff")!;
    await handlers(service, diffApi.Diff).apply(msg(diffApi.ApplyRequestSchema, { diff: LAYER }), ns);
    expect(calls.map((c) => c.differ)).toEqual(["first", "walking"]);
  });
});
