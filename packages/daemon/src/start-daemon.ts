import { mkdir, unlink } from "node:fs/promises";
import type { Server as HttpServer } from "node:http";
import {
  EventPlugin,
  GcPlugin,
  GrpcPlugin,
  decodePluginConfigs,
  defaultServerConfig,
  loadPlugins,
  silentLogger,
  type LoadedPlugins,
  type Logger,
  type PluginRegistration,
  type ServerConfig,
} from "@berth/core";
import { proxyPluginRegistration } from "@berth/proxy";
import { serverPlugins } from "./builtin/plugins.js";
import { proxyPluginsGrpcPlugin } from "./proxy/proxy-plugins-service.js";
import { createProxyRegistry, type ProxyRegistry } from "./proxy/proxy-registry.js";
import { createGrpcMetrics } from "./metrics/grpc-metrics.js";
import { GrpcServer } from "@berth/grpc-server";
import { serveMetrics } from "./metrics/metrics-server.js";
import { registerGcMetrics } from "./metrics/gc-metrics.js";
import { MetricsRegistry } from "./metrics/registry.js";
import { serveShimEvents } from "./server/ttrpc-server.js";
import { lockRoot } from "./server/root-lock.js";
import { prepareSocketPath, secureSocket } from "./server/unix-socket.js";

export interface DaemonOptions {
  /** Plugin registrations to load, besides the server's own (version, introspection, health). */
  plugins: readonly PluginRegistration[];
  /** Defaults to the embedded defaults (`berthd config default`). */
  config?: ServerConfig;
  /** Where the config came from, for error messages. */
  configSource?: string;
  log?: Logger;
}

/** A running daemon. */
export interface Daemon {
  readonly config: ServerConfig;
  /** The UNIX socket path it serves on. */
  readonly address: string;
  /** The TCP port, when [grpc].tcp_address was set. */
  readonly tcpPort: number | undefined;
  /** The ttrpc socket shims send events to; undefined when no event exchange is loaded. */
  readonly ttrpcAddress: string | undefined;
  readonly plugins: LoadedPlugins;
  /** Proxy plugins registered while it runs (what the ProxyPlugins service changes). */
  readonly proxyPlugins: ProxyRegistry;
  /** Stops serving, closes plugins in reverse order, removes the socket, releases the root. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Starts a Berth daemon in this process from the given plugins and config. `berthd` is this
 * function plus plugin discovery and the config file; embedders call it directly.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const config = opts.config ?? defaultServerConfig();
  const log = opts.log ?? silentLogger;
  const proxies = createProxyRegistry(config.root, log.with({ component: "proxy-plugins" }));
  // Proxy plugins from the config load like any other plugin, before the metadata that uses them.
  const configured = Object.entries(config.proxyPlugins).map(([id, p]) => proxyPluginRegistration({ id, type: p.type, address: p.address, exports: p.exports }));
  const registrations = [...serverPlugins, proxyPluginsGrpcPlugin(proxies), ...configured, ...opts.plugins];
  // Bad plugin config stops start-up before anything touches the disk.
  const { configs, warnings } = decodePluginConfigs(registrations, config.plugins, opts.configSource ?? "config");
  for (const w of warnings) log.warn("config", { key: w.key, problem: w.message });

  await mkdir(config.root, { recursive: true, mode: 0o711 });
  await mkdir(config.state, { recursive: true, mode: 0o711 });
  const lock = await lockRoot(config.root);
  const cleanups: (() => Promise<void>)[] = [() => lock.release()];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err) => log.error("shutdown step failed", { error: err }));
  };

  try {
    const address = config.grpc.address;
    const ttrpcAddress = config.ttrpc.address || `${address}.ttrpc`;
    const plugins = await loadPlugins({
      plugins: registrations,
      configs,
      disabled: config.disabledPlugins,
      required: config.requiredPlugins,
      daemon: { root: config.root, state: config.state, grpcAddress: address, ttrpcAddress },
      log,
      initTimeoutMs: config.pluginInitTimeout,
    });
    cleanups.push(() => plugins.close());
    // Proxy plugins registered at run time with `persist` come back before anyone can call.
    await proxies.attach(plugins).catch((err: unknown) => log.error("persisted proxy plugins not restored", { error: err }));

    // Shims reconnected while the plugins loaded may already have events to send.
    const exchange = [...plugins.all(EventPlugin).values()][0];
    if (exchange) {
      const ttrpc = await serveShimEvents(ttrpcAddress, exchange, { uid: config.ttrpc.uid, gid: config.ttrpc.gid, log });
      cleanups.push(() => ttrpc.close());
    } else {
      log.info("no event exchange loaded: not serving shim events over ttrpc", { address: ttrpcAddress });
    }

    const registry = new MetricsRegistry();
    registry.gauge("berth_plugin_status", "1 for each plugin, labelled with its load status (ok, error, skip).", () =>
      plugins.statuses().map((s) => [{ type: s.type, id: s.id, status: s.state }, 1]),
    );
    registerGcMetrics(registry, () => plugins.all(GcPlugin).values());
    const bindings = [...plugins.all(GrpcPlugin).values()].flatMap((service) => service.bindings);
    const server = new GrpcServer(bindings, {
      maxRecvMessageSize: config.grpc.maxRecvMessageSize,
      maxSendMessageSize: config.grpc.maxSendMessageSize,
      log,
      observer: createGrpcMetrics(registry, config.metrics.grpcHistogram),
    });
    // Calls in flight are aborted (event streams never end), then given a moment to answer.
    cleanups.push(() => server.close(SHUTDOWN_GRACE_MS));

    await prepareSocketPath(address);
    await server.listenUnix(address);
    cleanups.push(() => unlink(address).catch(() => undefined));
    await secureSocket(address, config.grpc.uid, config.grpc.gid);
    const tcpPort = config.grpc.tcpAddress ? await server.listenTcp(config.grpc.tcpAddress) : undefined;

    if (config.metrics.address) {
      const metricsServer: HttpServer = await serveMetrics(config.metrics.address, registry);
      cleanups.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
    }

    const failed = plugins.statuses().filter((s) => s.state === "error");
    log.info("berthd successfully booted", {
      address,
      plugins: plugins.statuses().length,
      failed: failed.map((s) => s.uri),
      services: bindings.map((b) => b.service.typeName),
    });
    return { config, address, tcpPort, ttrpcAddress: exchange ? ttrpcAddress : undefined, plugins, proxyPlugins: proxies, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}


