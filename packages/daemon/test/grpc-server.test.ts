// The gRPC edge over a real UNIX socket: containerd's error codes both ways, the namespace
// header, health, metrics, and a daemon that survives garbage on its socket.
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthApi, namespacesApi } from "@berth/api";
import { BerthError, GcPlugin, classOf, GrpcPlugin, bindService, definePlugin, requireNamespace, type ErrorClass, type GcMetrics } from "@berth/core";
import { createClient } from "@berth/client";
import { startTestDaemon, type TestDaemon } from "./helpers.js";

const CLASSES: ErrorClass[] = [
  "Unknown", "InvalidArgument", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
  "FailedPrecondition", "Conflict", "NotModified", "Aborted", "OutOfRange", "NotImplemented", "Internal",
  "Unavailable", "DataLoss", "Unauthenticated", "Canceled", "DeadlineExceeded",
];
// What a client sees: containerd sends Conflict and NotModified as FailedPrecondition.
const expectedOnWire = (c: ErrorClass): ErrorClass => (c === "Conflict" || c === "NotModified" ? "FailedPrecondition" : c);

// Signals of the probe's calls, by request name, as handlers saw them.
const signals = new Map<string, AbortSignal>();

// A stand-in service: Get throws the error class named in the request, or echoes the namespace;
// "wait-*" waits for its signal to abort.
const probe = definePlugin({
  type: GrpcPlugin,
  id: "probe",
  init: () => ({
    bindings: [
      bindService(namespacesApi.Namespaces, {
        async get(req, ctx) {
          signals.set(req.name, ctx.signal);
          if (req.name.startsWith("wait-")) {
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
            throw ctx.signal.reason;
          }
          if (req.name.startsWith("throw-")) throw new BerthError(req.name.slice(6) as ErrorClass, `thrown as ${req.name.slice(6)}`);
          if (req.name === "bug") throw new TypeError("undefined is not a function");
          return { namespace: { name: requireNamespace(ctx), labels: {} } };
        },
      }),
    ],
  }),
});

// A stand-in collector with known totals, to see them rendered under containerd's metric names.
const collectorMetrics: GcMetrics = {
  collections: { success: 3, fail: 1 },
  seconds: { sum: 0.25, count: 3, last: 0.05 },
  lastPauseMs: 12,
  removed: { images: 1, leases: 2, content: 7, ingests: 0, snapshots: 4 },
  reclaimed: { blobs: 7, ingests: 0, snapshots: 4 },
};
const collector = definePlugin({
  type: GcPlugin,
  id: "scheduler",
  init: () => ({
    collect: () => Promise.reject(new Error("not in this test")),
    metrics: () => collectorMetrics,
  }) as never,
});

describe("gRPC server", () => {
  let t: TestDaemon;
  let metricsAddress: string;
  beforeAll(async () => {
    metricsAddress = `127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`;
    t = await startTestDaemon([probe, collector], (c) => {
      c.metrics.address = metricsAddress;
      c.grpc.tcpAddress = "127.0.0.1:0";
    });
  });
  afterAll(() => t?.dispose());
  const namespaces = () => t.client.service(namespacesApi.Namespaces);

  it.each(CLASSES)("error class %s survives the round trip with its message", async (cls) => {
    const err = await namespaces().get({ name: `throw-${cls}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).errClass).toBe(expectedOnWire(cls));
    expect((err as BerthError).message).toBe(`thrown as ${cls}`);
  });

  it("an unexpected exception is Unknown, not a crash", async () => {
    const err = (await namespaces().get({ name: "bug" }).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("Unknown");
    expect((await namespaces().get({ name: "ok" })).namespace?.name).toBe("default");
  });

  it("a call the client cancels aborts its handler's signal with Canceled", async () => {
    const controller = new AbortController();
    const call = namespaces().get({ name: "wait-cancel" }, { signal: controller.signal }).catch((e: unknown) => e);
    while (!signals.has("wait-cancel")) await namespaces().get({ name: "ok" });
    controller.abort();
    await call;
    const signal = signals.get("wait-cancel")!;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    expect(classOf(signal.reason)).toBe("Canceled");
  });

  it("an answered call's signal stays unaborted once its stream closes", async () => {
    await namespaces().get({ name: "answered" });
    // Later round trips: by then the answered call's stream has closed on the server.
    for (let i = 0; i < 3; i++) await namespaces().get({ name: "ok" });
    expect(signals.get("answered")?.aborted).toBe(false);
  });

  it("passes the containerd-namespace header to handlers", async () => {
    const res = await t.client.withNamespace("k8s.io").service(namespacesApi.Namespaces).get({ name: "x" });
    expect(res.namespace?.name).toBe("k8s.io");
  });

  it("a call that needs a namespace and has none is FailedPrecondition", async () => {
    const err = (await namespaces().get({ name: "x" }, { namespace: "" }).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toMatch(/namespace is required/);
  });

  it("a malformed namespace is InvalidArgument", async () => {
    const err = (await t.client.withNamespace("bad/ns").service(namespacesApi.Namespaces).get({ name: "x" }).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("InvalidArgument");
  });

  it("events.Publish without a namespace is FailedPrecondition", async () => {
    const err = (await t.client.publish("/x/y", { typeUrl: "t", value: new Uint8Array() }, { namespace: "" }).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("FailedPrecondition");
  });

  it("an unknown method is Unimplemented", async () => {
    const err = (await namespaces().list({}).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("NotImplemented");
  });

  it("grpc.health.v1 says SERVING", async () => {
    const res = await t.client.service(healthApi.Health).check({ service: "" });
    expect(res.status).toBe(healthApi.HealthCheckResponse_ServingStatus.SERVING);
  });

  it("garbage bytes on the socket leave the daemon serving", async () => {
    for (const junk of [randomBytes(4096), Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\xff".repeat(100)), Buffer.from("GET / HTTP/1.1\r\n\r\n")]) {
      await new Promise<void>((resolve) => {
        const socket = connect(t.daemon.address, () => socket.end(junk));
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.resume();
      });
    }
    expect((await t.client.version()).version).toMatch(/berth/);
  });

  it("also serves on TCP when [grpc] tcp_address is set", async () => {
    expect(t.daemon.tcpPort).toBeGreaterThan(0);
    const overTcp = createClient({ address: `127.0.0.1:${t.daemon.tcpPort}`, timeoutMs: 5_000 });
    try {
      expect((await overTcp.version()).version).toMatch(/berth/);
    } finally {
      overTcp.close();
    }
  });

  it("serves Prometheus metrics with request counts and plugin status", async () => {
    await t.client.version();
    const text = await (await fetch(`http://${metricsAddress}/v1/metrics`)).text();
    expect(text).toMatch(/grpc_server_handled_total\{grpc_code="OK",grpc_method="Version",grpc_service="containerd.services.version.v1.Version",grpc_type="unary"\} [1-9]/);
    expect(text).toMatch(/grpc_server_handled_total\{grpc_code="NotFound",grpc_method="Get",grpc_service="containerd.services.namespaces.v1.Namespaces"/);
    expect(text).toMatch(/grpc_server_handling_seconds_bucket\{.*le="\+Inf"\} [1-9]/);
    expect(text).toContain('berth_plugin_status{id="exchange",status="ok",type="io.containerd.event.v1"} 1');
    expect(text).toContain('containerd_gc_collections{status="success"} 3');
    expect(text).toContain('containerd_gc_gc_seconds_sum{} 0.25');
    expect(text).toContain('berth_gc_last_pause_seconds{} 0.012');
    expect(text).toContain('berth_gc_removed{kind="backend_blobs"} 7');
    expect((await fetch(`http://${metricsAddress}/other`)).status).toBe(404);
  });
});
