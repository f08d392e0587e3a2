import { field, invalidArgument, type ConfigOf } from "@berth/core";

/**
 * One runtime handler (`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.<name>]`):
 * the kubelet's RuntimeClass names it; `runtime_type` is the shim's runtime name and
 * `options` goes to that shim as it was written (runc's: BinaryName, SystemdCgroup, …).
 */
export const runtimeHandlerSchema = {
  runtimeType: field.string("io.containerd.runc.v2"),
  runtimePath: field.string(""),
  options: field.rawTable(),
  privilegedWithoutHostDevices: field.boolean(false),
  podAnnotations: field.stringArray([]),
  containerAnnotations: field.stringArray([]),
  /** A snapshotter for this handler's pods; "" uses the CRI's. */
  snapshotter: field.string(""),
  baseRuntimeSpec: field.string(""),
};
export type RuntimeHandlerConfig = ConfigOf<typeof runtimeHandlerSchema>;

const runtimeHandler = field.table(runtimeHandlerSchema);

/** `[...cri.containerd]`: where images unpack and which runtime runs pods by default. */
export const containerdSectionSchema = {
  snapshotter: field.string("overlayfs"),
  defaultRuntimeName: field.string("runc"),
  runtimes: field.tableMap(runtimeHandler, { runc: runtimeHandler.default }),
  /** Unpacked layers are kept in content too unless this is set (containerd's default: kept). */
  discardUnpackedLayers: field.boolean(false),
};

/** `[...cri.cni]`: Debian installs the plugins in /usr/lib/cni; containerd's defaults are kept. */
export const cniSectionSchema = {
  binDir: field.string("/opt/cni/bin"),
  confDir: field.string("/etc/cni/net.d"),
  /** How many config files (in name order) the network side loads; containerd's default is 1. */
  maxConfNum: field.integer(1, 0),
  confTemplate: field.string(""),
};

/** `[...cri.registry]`: a certs.d-style directory of hosts.toml files, searched per pull. */
export const registrySectionSchema = {
  configPath: field.string(""),
  headers: field.stringMap({}),
};

/** `[plugins."io.containerd.grpc.v1.cri"]`, containerd 1.6's names and defaults. */
export const criConfigSchema = {
  sandboxImage: field.string("registry.k8s.io/pause:3.6"),
  /** Clamp requested oom_score_adj to the daemon's own (hosts without CAP_SYS_RESOURCE need it). */
  restrictOomScoreAdj: field.boolean(false),
  streamServerAddress: field.string("127.0.0.1"),
  /** "0" picks a free port. */
  streamServerPort: field.string("0"),
  streamIdleTimeout: field.duration(4 * 60 * 60 * 1000),
  /** Accepted for compatibility with containerd configs; Berth has no SELinux support. */
  enableSelinux: field.boolean(false),
  /** Longer log lines are split; -1 means no limit. */
  maxContainerLogLineSize: field.integer(16 * 1024, -1),
  /** Image references never removed by the kubelet's image GC (the sandbox image always is). */
  pinnedImages: field.stringArray([]),
  containerd: field.table(containerdSectionSchema),
  cni: field.table(cniSectionSchema),
  registry: field.table(registrySectionSchema),
};
export type CriConfig = ConfigOf<typeof criConfigSchema>;

/** Checks what the schema cannot: cross-field references. */
export function validateCriConfig(config: CriConfig): void {
  const { defaultRuntimeName, runtimes } = config.containerd;
  if (runtimes[defaultRuntimeName] === undefined) {
    throw invalidArgument(`cri: default_runtime_name "${defaultRuntimeName}" is not among the configured runtimes (${Object.keys(runtimes).join(", ") || "none"})`);
  }
  const port = Number(config.streamServerPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`cri: stream_server_port "${config.streamServerPort}" is not a port number`);
}

/** The runtime handler a request names; "" means the default one. */
export function runtimeHandlerFor(config: CriConfig, handler: string): RuntimeHandlerConfig & { readonly name: string } {
  const name = handler === "" ? config.containerd.defaultRuntimeName : handler;
  const runtime = config.containerd.runtimes[name];
  if (runtime === undefined) throw invalidArgument(`no runtime for "${name}" is configured`);
  return { ...runtime, name };
}
