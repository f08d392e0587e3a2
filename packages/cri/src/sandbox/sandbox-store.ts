import { notFound } from "@berth/core";
import type { IdIndex } from "../state/id-index.js";
import type { PodContainerHooks, SandboxLookup, SandboxView } from "../runtime/sandbox-controller.js";
import { podFiles, type PodSandbox } from "./pod-sandbox.js";

/**
 * The pods this CRI knows, by full ID (prefixes resolve through the shared IdIndex), and the
 * read-only views the container part gets of them.
 */
export interface SandboxStore extends SandboxLookup {
  add(pod: PodSandbox): void;
  delete(id: string): void;
  /** NotFound (from the ID index) when no pod matches. */
  get(idOrPrefix: string): PodSandbox;
  /** The pod with exactly this ID, if any. */
  find(id: string): PodSandbox | undefined;
  all(): PodSandbox[];
  /** The container part's hooks; no-ops until it registers them. */
  readonly hooks: PodContainerHooks;
}

const NO_CONTAINERS: PodContainerHooks = { stopAll: async () => {}, removeAll: async () => {} };

export function createSandboxStore(ids: IdIndex): SandboxStore {
  const pods = new Map<string, PodSandbox>();
  let hooks = NO_CONTAINERS;
  const get = (idOrPrefix: string): PodSandbox => {
    const id = ids.resolve(idOrPrefix);
    const pod = pods.get(id);
    // The index also holds IDs of pods still being created; they are not visible yet.
    if (pod === undefined) throw notFound(`sandbox "${idOrPrefix}" not found`);
    return pod;
  };
  return {
    add(pod) {
      pods.set(pod.id, pod);
    },
    delete(id) {
      pods.delete(id);
    },
    get,
    find: (id) => pods.get(id),
    all: () => [...pods.values()],
    get hooks() {
      return hooks;
    },
    sandbox: (idOrPrefix) => viewOf(get(idOrPrefix)),
    setContainerHooks(h) {
      hooks = h;
    },
  };
}

/** A view that reads the pod's current state on every access. */
function viewOf(pod: PodSandbox): SandboxView {
  const files = podFiles(pod.rootDir, pod.namespaces);
  return {
    id: pod.id,
    config: pod.config,
    get state() {
      return pod.status.state;
    },
    runtimeHandler: pod.runtimeHandler,
    get pid() {
      return pod.status.pid;
    },
    get netnsPath() {
      return pod.netnsPath;
    },
    rootDir: pod.rootDir,
    hostnamePath: files.hostnamePath,
    hostsPath: files.hostsPath,
    resolvConfPath: files.resolvConfPath,
    shmPath: files.shmPath,
    namespaces: pod.namespaces,
    cgroupParent: pod.cgroupParent,
    runtimeType: pod.runtimeType,
    runtimeOptions: pod.runtimeOptions,
    get ips() {
      return pod.ips;
    },
  };
}
