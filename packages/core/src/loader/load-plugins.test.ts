import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { field } from "../config/schema.js";
import { BerthError } from "../errdefs/index.js";
import { silentLogger } from "../logging/index.js";
import { definePlugin, pluginUri, skipPlugin, type PluginRegistration } from "../plugin/define-plugin.js";
import type { DaemonInfo, InitContext } from "../plugin/init-context.js";
import { optional, pluginType } from "../plugin/plugin-type.js";
import { loadPlugins, type LoadedPlugins, type LoadOptions } from "./load-plugins.js";
import type { PluginStatus } from "./plugin-status.js";

interface Store {
  name: string;
  deps: string[];
}

const Content = pluginType<Store>("io.test.content.v1");
const Snapshot = pluginType<Store>("io.test.snapshotter.v1");
const Metadata = pluginType<Store>("io.test.metadata.v1");
const Service = pluginType<Store>("io.test.service.v1");
const Grpc = pluginType<Store>("io.test.grpc.v1");
const Introspect = pluginType<readonly PluginStatus[]>("io.test.introspection.v1");

let dir: string;
let daemon: DaemonInfo;
const opened: LoadedPlugins[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-core-loader-"));
  daemon = { root: join(dir, "root"), state: join(dir, "state"), grpcAddress: join(dir, "grpc.sock"), ttrpcAddress: join(dir, "ttrpc.sock") };
});

afterEach(async () => {
  for (const loaded of opened.splice(0)) await loaded.close();
  await rm(dir, { recursive: true, force: true });
});

async function load(plugins: readonly PluginRegistration[], extra: Partial<LoadOptions> = {}): Promise<LoadedPlugins> {
  const loaded = await loadPlugins({
    plugins,
    configs: new Map(),
    disabled: [],
    required: [],
    daemon,
    log: silentLogger,
    ...extra,
  });
  opened.push(loaded);
  return loaded;
}

async function rejection(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error("expected loadPlugins to reject");
}

const statusOf = (loaded: LoadedPlugins, uri: string) => loaded.statuses().find((s) => s.uri === uri);

/** A plugin with no dependencies that records its init in `calls`. */
const leaf = (type: typeof Content, id: string, calls: string[] = []) =>
  definePlugin({
    type,
    id,
    init: (ctx) => {
      calls.push(ctx.uri);
      return { name: ctx.uri, deps: [] };
    },
  });

const isDir = async (path: string) => (await stat(path)).isDirectory();

describe("loadPlugins: instances and order", () => {
  it("hands instances to dependents through single, get and all", async () => {
    const seen: Record<string, unknown> = {};
    const plugins = [
      leaf(Content, "local"),
      leaf(Snapshot, "overlayfs"),
      leaf(Snapshot, "native"),
      definePlugin({
        type: Metadata,
        id: "bolt",
        requires: [Content, Snapshot],
        init: (ctx) => {
          const content = ctx.single(Content);
          const native = ctx.get(Snapshot, "native");
          const all = ctx.all(Snapshot);
          seen["single"] = content;
          seen["get"] = native;
          seen["allKeys"] = [...all.keys()].sort();
          seen["allValues"] = [...all.values()].map((s) => s.name).sort();
          return { name: "bolt", deps: [content.name, native.name] };
        },
      }),
    ];
    const loaded = await load(plugins);
    expect(seen["single"]).toBe(loaded.get(Content, "local"));
    expect(seen["single"]).toEqual({ name: "io.test.content.v1.local", deps: [] });
    expect(seen["get"]).toBe(loaded.get(Snapshot, "native"));
    expect(seen["allKeys"]).toEqual(["native", "overlayfs"]);
    expect(seen["allValues"]).toEqual(["io.test.snapshotter.v1.native", "io.test.snapshotter.v1.overlayfs"]);
    expect(loaded.get(Metadata, "bolt")?.deps).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);
    expect([...loaded.all(Snapshot).keys()].sort()).toEqual(["native", "overlayfs"]);
    expect(loaded.get(Snapshot, "missing")).toBeUndefined();
    expect(loaded.all(Grpc).size).toBe(0);
    expect(loaded.statuses().map((s) => s.state)).toEqual(["ok", "ok", "ok", "ok"]);
  });

  it("initialises plugins in dependency order, not registration order", async () => {
    const calls: string[] = [];
    const dependent = (type: typeof Content, id: string, requires: readonly (typeof Content)[]) =>
      definePlugin({
        type,
        id,
        requires,
        init: (ctx) => {
          calls.push(ctx.uri);
          return { name: ctx.uri, deps: [] };
        },
      });
    const plugins = [
      dependent(Grpc, "api", [Service]),
      dependent(Service, "images", [Metadata]),
      dependent(Metadata, "bolt", [Content, Snapshot]),
      leaf(Snapshot, "overlayfs", calls),
      leaf(Content, "local", calls),
    ];
    const loaded = await load(plugins);
    const uris = loaded.statuses().map((s) => s.uri);
    expect(calls).toEqual(uris);
    const at = (uri: string) => calls.indexOf(uri);
    expect(at("io.test.metadata.v1.bolt")).toBeGreaterThan(at("io.test.content.v1.local"));
    expect(at("io.test.metadata.v1.bolt")).toBeGreaterThan(at("io.test.snapshotter.v1.overlayfs"));
    expect(at("io.test.service.v1.images")).toBeGreaterThan(at("io.test.metadata.v1.bolt"));
    expect(at("io.test.grpc.v1.api")).toBe(4);
    expect(statusOf(loaded, "io.test.metadata.v1.bolt")?.requires).toEqual(["io.test.content.v1", "io.test.snapshotter.v1"]);
  });

  it("creates <root>/<type>.<id> and <state>/<type>.<id> before init and passes them in", async () => {
    const dirs: Record<string, { root: string; state: string; rootExists: boolean; stateExists: boolean }> = {};
    const probe = (type: typeof Content, id: string) =>
      definePlugin({
        type,
        id,
        init: async (ctx) => {
          dirs[ctx.uri] = {
            root: ctx.rootDir,
            state: ctx.stateDir,
            rootExists: await isDir(ctx.rootDir),
            stateExists: await isDir(ctx.stateDir),
          };
          expect(ctx.type).toBe(type.uri);
          expect(ctx.id).toBe(id);
          expect(ctx.daemon).toEqual(daemon);
          return { name: id, deps: [] };
        },
      });
    await load([probe(Content, "local"), probe(Snapshot, "overlayfs")]);
    expect(dirs).toEqual({
      "io.test.content.v1.local": {
        root: join(daemon.root, "io.test.content.v1.local"),
        state: join(daemon.state, "io.test.content.v1.local"),
        rootExists: true,
        stateExists: true,
      },
      "io.test.snapshotter.v1.overlayfs": {
        root: join(daemon.root, "io.test.snapshotter.v1.overlayfs"),
        state: join(daemon.state, "io.test.snapshotter.v1.overlayfs"),
        rootExists: true,
        stateExists: true,
      },
    });
  });

  it("never initialises disabled plugins and leaves them out of statuses", async () => {
    const calls: string[] = [];
    const loaded = await load([leaf(Content, "local", calls), leaf(Snapshot, "overlayfs", calls), leaf(Snapshot, "native", calls)], {
      disabled: ["io.test.snapshotter.v1.overlayfs"],
    });
    expect(calls.sort()).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);
    expect(loaded.statuses().map((s) => s.uri).sort()).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);
    expect(loaded.get(Snapshot, "overlayfs")).toBeUndefined();
    await expect(stat(join(daemon.root, "io.test.snapshotter.v1.overlayfs"))).rejects.toThrow();
  });
});

describe("loadPlugins: failures", () => {
  it("records a failing plugin with its error and keeps loading the others", async () => {
    const calls: string[] = [];
    const loaded = await load([
      definePlugin({
        type: Snapshot,
        id: "btrfs",
        init: (): Store => {
          throw new BerthError("Unavailable", "btrfs is not mounted");
        },
      }),
      definePlugin({
        type: Snapshot,
        id: "zfs",
        init: async (): Promise<Store> => {
          throw new TypeError("zpool exploded");
        },
      }),
      definePlugin({
        type: Snapshot,
        id: "devmapper",
        init: (): Store => {
          throw "a bare string"; // eslint-disable-line no-throw-literal
        },
      }),
      leaf(Snapshot, "native", calls),
      leaf(Content, "local", calls),
    ]);
    expect(calls.sort()).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);

    const btrfs = statusOf(loaded, "io.test.snapshotter.v1.btrfs");
    expect(btrfs?.state).toBe("error");
    expect(btrfs?.error?.errClass).toBe("Unavailable");
    expect(btrfs?.error?.message).toBe("btrfs is not mounted");

    const zfs = statusOf(loaded, "io.test.snapshotter.v1.zfs");
    expect(zfs?.state).toBe("error");
    expect(zfs?.error).toBeInstanceOf(BerthError);
    expect(zfs?.error?.errClass).toBe("Unknown");
    expect(zfs?.error?.message).toBe("zpool exploded");
    expect(zfs?.error?.cause).toBeInstanceOf(TypeError);

    const devmapper = statusOf(loaded, "io.test.snapshotter.v1.devmapper");
    expect(devmapper?.state).toBe("error");
    expect(devmapper?.error?.errClass).toBe("Unknown");
    expect(devmapper?.error?.message).toBe("a bare string");

    expect(statusOf(loaded, "io.test.snapshotter.v1.native")?.state).toBe("ok");
    expect(statusOf(loaded, "io.test.snapshotter.v1.native")?.error).toBeUndefined();
    expect(loaded.get(Snapshot, "btrfs")).toBeUndefined();
    expect([...loaded.all(Snapshot).keys()]).toEqual(["native"]);
  });

  it("records skipPlugin as skip with a 'skip plugin' message", async () => {
    const loaded = await load([
      definePlugin({
        type: Snapshot,
        id: "btrfs",
        init: (): Store => {
          throw skipPlugin("path /var/lib is not a btrfs filesystem");
        },
      }),
      leaf(Content, "local"),
    ]);
    const status = statusOf(loaded, "io.test.snapshotter.v1.btrfs");
    expect(status?.state).toBe("skip");
    expect(status?.error?.message).toContain("skip plugin");
    expect(status?.error?.message).toContain("path /var/lib is not a btrfs filesystem");
    expect(loaded.get(Snapshot, "btrfs")).toBeUndefined();
    expect(statusOf(loaded, "io.test.content.v1.local")?.state).toBe("ok");
  });

  it("blocks dependents of a type whose every plugin failed, without calling their init", async () => {
    const calls: string[] = [];
    const failing = (id: string, message: string) =>
      definePlugin({
        type: Snapshot,
        id,
        init: (): Store => {
          throw new BerthError("Unavailable", message);
        },
      });
    const dependent = (type: typeof Content, id: string, requires: readonly (typeof Content)[]) =>
      definePlugin({
        type,
        id,
        requires,
        init: (ctx) => {
          calls.push(ctx.uri);
          return { name: id, deps: [] };
        },
      });
    const loaded = await load([
      failing("a-first", "no overlay support"),
      failing("b-second", "no btrfs"),
      dependent(Metadata, "bolt", [Content, Snapshot]),
      dependent(Service, "images", [Metadata]),
      leaf(Content, "local", calls),
    ]);
    expect(calls).toEqual(["io.test.content.v1.local"]);

    const bolt = statusOf(loaded, "io.test.metadata.v1.bolt");
    expect(bolt?.state).toBe("error");
    expect(bolt?.error?.message).toBe("blocked by io.test.snapshotter.v1.a-first: no overlay support");
    // Transitively blocked, naming its own direct blocker.
    const images = statusOf(loaded, "io.test.service.v1.images");
    expect(images?.state).toBe("error");
    expect(images?.error?.message).toMatch(/^blocked by io\.test\.metadata\.v1\.bolt: /);
    expect(loaded.statuses()).toHaveLength(5);
  });

  it("does not block a dependent on an optional requirement whose plugins all failed", async () => {
    const calls: string[] = [];
    const loaded = await load([
      definePlugin({ type: Snapshot, id: "broken", init: (): Store => { throw new BerthError("Unavailable", "no overlay"); } }),
      definePlugin({
        type: Metadata,
        id: "bolt",
        requires: [Content, optional(Snapshot)],
        init: (ctx) => {
          calls.push(ctx.uri);
          return { name: "bolt", deps: [...ctx.all(Snapshot).keys()] };
        },
      }),
      leaf(Content, "local", calls),
    ]);
    expect(calls).toEqual(["io.test.content.v1.local", "io.test.metadata.v1.bolt"]);
    expect(statusOf(loaded, "io.test.metadata.v1.bolt")?.state).toBe("ok");
  });

  it("does not block a dependent when at least one plugin of the required type loaded", async () => {
    const calls: string[] = [];
    const loaded = await load([
      definePlugin({
        type: Snapshot,
        id: "broken",
        init: (): Store => {
          throw new Error("nope");
        },
      }),
      leaf(Snapshot, "native"),
      definePlugin({
        type: Metadata,
        id: "bolt",
        requires: [Snapshot],
        init: (ctx) => {
          calls.push(ctx.uri);
          return { name: "bolt", deps: [...ctx.all(Snapshot).keys()] };
        },
      }),
    ]);
    expect(calls).toEqual(["io.test.metadata.v1.bolt"]);
    expect(loaded.get(Metadata, "bolt")?.deps).toEqual(["native"]);
  });

  it("rejects with FailedPrecondition when a required plugin fails, after closing what loaded", async () => {
    const closed: string[] = [];
    const calls: string[] = [];
    let signal: AbortSignal | undefined;
    const closing = (type: typeof Content, id: string) =>
      definePlugin({
        type,
        id,
        init: (ctx) => {
          calls.push(ctx.uri);
          signal = ctx.signal;
          ctx.onClose(() => {
            closed.push(ctx.uri);
          });
          return { name: id, deps: [] };
        },
      });
    const err = await rejection(
      loadPlugins({
        plugins: [
          closing(Content, "local"),
          closing(Snapshot, "native"),
          definePlugin({
            type: Metadata,
            id: "bolt",
            requires: [Content, Snapshot],
            init: (): Store => {
              throw new Error("database is locked");
            },
          }),
          closing(Service, "after"),
        ],
        configs: new Map(),
        disabled: [],
        required: ["io.test.metadata.v1.bolt"],
        daemon,
        log: silentLogger,
      }),
    );
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toContain("io.test.metadata.v1.bolt");
    expect(err.message).toContain("database is locked");
    // Both loaded plugins were closed, in reverse load order; the plugin after it never ran.
    expect(closed).toEqual([...calls].reverse());
    expect(closed.sort()).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);
    expect(signal?.aborted).toBe(true);
  });

  it("rejects when a required plugin skips", async () => {
    const err = await rejection(
      load(
        [
          definePlugin({
            type: Snapshot,
            id: "btrfs",
            init: (): Store => {
              throw skipPlugin("not btrfs");
            },
          }),
        ],
        { required: ["io.test.snapshotter.v1.btrfs"] },
      ),
    );
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toContain("io.test.snapshotter.v1.btrfs");
  });

  it("rejects naming a required plugin that is not installed, and closes what loaded", async () => {
    const closed: string[] = [];
    const err = await rejection(
      load(
        [
          definePlugin({
            type: Content,
            id: "local",
            init: (ctx) => {
              ctx.onClose(() => {
                closed.push(ctx.uri);
              });
              return { name: "local", deps: [] };
            },
          }),
        ],
        { required: ["io.test.content.v1.local", "io.test.snapshotter.v1.zfs"] },
      ),
    );
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toContain("io.test.snapshotter.v1.zfs");
    expect(err.message).toContain("not installed");
    expect(err.message).not.toContain("io.test.content.v1.local");
    expect(closed).toEqual(["io.test.content.v1.local"]);
  });

  it("rejects naming a required plugin that is disabled", async () => {
    const err = await rejection(
      load([leaf(Content, "local"), leaf(Snapshot, "zfs")], {
        required: ["io.test.snapshotter.v1.zfs"],
        disabled: ["io.test.snapshotter.v1.zfs"],
      }),
    );
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toContain("io.test.snapshotter.v1.zfs");
    expect(err.message).toContain("disabled");
    expect(err.message).not.toContain("not installed");
  });

  it("records an init that never finishes as DeadlineExceeded and goes on", async () => {
    const started = Date.now();
    const loaded = await load(
      [
        definePlugin({ type: Snapshot, id: "hung", init: () => new Promise<Store>(() => {}) }),
        leaf(Content, "local"),
      ],
      { initTimeoutMs: 30 },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const hung = statusOf(loaded, "io.test.snapshotter.v1.hung");
    expect(hung?.state).toBe("error");
    expect(hung?.error?.errClass).toBe("DeadlineExceeded");
    expect(hung?.error?.message).toContain("io.test.snapshotter.v1.hung");
    expect(statusOf(loaded, "io.test.content.v1.local")?.state).toBe("ok");
  });

  it("does not time out an init that finishes within the limit", async () => {
    const loaded = await load(
      [
        definePlugin({
          type: Snapshot,
          id: "slowish",
          init: () => new Promise<Store>((resolve) => setTimeout(() => resolve({ name: "slowish", deps: [] }), 10)),
        }),
      ],
      { initTimeoutMs: 2_000 },
    );
    expect(statusOf(loaded, "io.test.snapshotter.v1.slowish")?.state).toBe("ok");
    expect(loaded.get(Snapshot, "slowish")?.name).toBe("slowish");
  });
});

describe("loadPlugins: init context lookups", () => {
  it("throws at run time when a plugin looks up a type it did not require", async () => {
    const outcomes: string[] = [];
    const messages: string[] = [];
    await load([
      leaf(Snapshot, "native"),
      definePlugin({
        type: Metadata,
        id: "sneaky",
        requires: [Content],
        init: (ctx) => {
          const loose = ctx as unknown as InitContext;
          const attempts: Record<string, () => unknown> = {
            single: () => loose.single(Snapshot),
            get: () => loose.get(Snapshot, "native"),
            all: () => loose.all(Snapshot),
          };
          for (const [name, attempt] of Object.entries(attempts)) {
            try {
              attempt();
              outcomes.push(`${name}: returned`);
            } catch (err) {
              outcomes.push(`${name}: ${(err as BerthError).errClass}`);
              messages.push((err as BerthError).message);
            }
          }
          return { name: "sneaky", deps: [] };
        },
      }),
    ]);
    expect(outcomes).toEqual(["single: FailedPrecondition", "get: FailedPrecondition", "all: FailedPrecondition"]);
    for (const message of messages) {
      expect(message).toContain("io.test.metadata.v1.sneaky");
      expect(message).toContain("io.test.snapshotter.v1");
    }
  });

  it("lets a wildcard plugin look up any type", async () => {
    let found: string[] = [];
    await load([
      leaf(Content, "local"),
      leaf(Snapshot, "native"),
      definePlugin({
        type: Introspect,
        id: "all-seeing",
        requires: "*",
        init: (ctx) => {
          found = [ctx.single(Content).name, ctx.get(Snapshot, "native").name];
          return ctx.statuses();
        },
      }),
    ]);
    expect(found).toEqual(["io.test.content.v1.local", "io.test.snapshotter.v1.native"]);
  });

  it("single throws FailedPrecondition for two plugins of the type and NotFound for none", async () => {
    const outcomes: Record<string, string> = {};
    const attempt = (name: string, fn: () => unknown) => {
      try {
        fn();
        outcomes[name] = "returned";
      } catch (err) {
        outcomes[name] = (err as BerthError).errClass;
        outcomes[`${name}.message`] = (err as BerthError).message;
      }
    };
    await load([
      leaf(Snapshot, "native"),
      leaf(Snapshot, "overlayfs"),
      definePlugin({
        type: Metadata,
        id: "bolt",
        requires: [Snapshot, Content],
        init: (ctx) => {
          attempt("two", () => ctx.single(Snapshot));
          attempt("none", () => ctx.single(Content));
          attempt("getMissing", () => ctx.get(Snapshot, "zfs"));
          attempt("allNone", () => {
            if (ctx.all(Content).size !== 0) throw new Error("expected no content plugins");
          });
          return { name: "bolt", deps: [] };
        },
      }),
    ]);
    expect(outcomes["two"]).toBe("FailedPrecondition");
    expect(outcomes["two.message"]).toContain("native");
    expect(outcomes["two.message"]).toContain("overlayfs");
    expect(outcomes["none"]).toBe("NotFound");
    expect(outcomes["getMissing"]).toBe("NotFound");
    expect(outcomes["allNone"]).toBe("returned");
  });

  it("shows a plugin's statuses() the plugins that loaded after it", async () => {
    let live: () => readonly PluginStatus[] = () => [];
    let atInit: string[] = [];
    const loaded = await load([
      definePlugin({
        type: Introspect,
        id: "introspection",
        init: (ctx) => {
          live = ctx.statuses;
          atInit = ctx.statuses().map((s) => s.uri);
          return ctx.statuses();
        },
      }),
      // Both come after "io.test.introspection..." only because they depend on it.
      definePlugin({ type: Content, id: "local", requires: [Introspect], init: () => ({ name: "local", deps: [] }) }),
      definePlugin({
        type: Snapshot,
        id: "btrfs",
        requires: [Introspect],
        init: (): Store => {
          throw skipPlugin("no btrfs");
        },
      }),
    ]);
    expect(atInit).toEqual([]);
    const later = live().map((s) => `${s.uri}=${s.state}`);
    expect(later).toEqual(
      expect.arrayContaining([
        "io.test.introspection.v1.introspection=ok",
        "io.test.content.v1.local=ok",
        "io.test.snapshotter.v1.btrfs=skip",
      ]),
    );
    expect(later).toHaveLength(3);
    // The instance it returned is the same live list.
    expect(loaded.get(Introspect, "introspection")).toHaveLength(3);
  });

  it("gives each plugin a logger and meta it can fill in for introspection", async () => {
    const loaded = await load([
      definePlugin({
        type: Snapshot,
        id: "overlayfs",
        init: (ctx) => {
          ctx.meta.platforms.push({ os: "linux", architecture: "amd64" });
          ctx.meta.exports["root"] = ctx.rootDir;
          ctx.meta.capabilities.add("remap-ids");
          ctx.log.info("hello");
          return { name: "overlayfs", deps: [] };
        },
      }),
    ]);
    const meta = statusOf(loaded, "io.test.snapshotter.v1.overlayfs")?.meta;
    expect(meta?.platforms).toEqual([{ os: "linux", architecture: "amd64" }]);
    expect(meta?.exports).toEqual({ root: join(daemon.root, "io.test.snapshotter.v1.overlayfs") });
    expect([...(meta?.capabilities ?? [])]).toEqual(["remap-ids"]);
  });
});

describe("loadPlugins: close", () => {
  it("runs onClose hooks in reverse load order and aborts the init signal", async () => {
    const events: string[] = [];
    const signals: AbortSignal[] = [];
    const closing = (type: typeof Content, id: string, requires: readonly (typeof Content)[]) =>
      definePlugin({
        type,
        id,
        requires,
        init: (ctx) => {
          events.push(`init ${ctx.uri}`);
          signals.push(ctx.signal);
          ctx.onClose(async () => {
            await new Promise((resolve) => setTimeout(resolve, 2));
            events.push(`close ${ctx.uri} aborted=${ctx.signal.aborted}`);
          });
          return { name: id, deps: [] };
        },
      });
    const loaded = await loadPlugins({
      plugins: [closing(Service, "svc", [Metadata]), closing(Content, "local", []), closing(Metadata, "bolt", [Content])],
      configs: new Map(),
      disabled: [],
      required: [],
      daemon,
      log: silentLogger,
    });
    expect(signals.every((s) => !s.aborted)).toBe(true);
    expect(events).toEqual(["init io.test.content.v1.local", "init io.test.metadata.v1.bolt", "init io.test.service.v1.svc"]);
    await loaded.close();
    expect(events.slice(3)).toEqual([
      "close io.test.service.v1.svc aborted=true",
      "close io.test.metadata.v1.bolt aborted=true",
      "close io.test.content.v1.local aborted=true",
    ]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    // Closing again runs nothing twice.
    await loaded.close();
    expect(events).toHaveLength(6);
  });

  it("keeps closing the others when one onClose hook throws", async () => {
    const closed: string[] = [];
    const loaded = await loadPlugins({
      plugins: [
        definePlugin({
          type: Content,
          id: "local",
          init: (ctx) => {
            ctx.onClose(() => {
              closed.push("local");
            });
            return { name: "local", deps: [] };
          },
        }),
        definePlugin({
          type: Metadata,
          id: "bolt",
          requires: [Content],
          init: (ctx) => {
            ctx.onClose(() => {
              throw new Error("close failed");
            });
            return { name: "bolt", deps: [] };
          },
        }),
      ],
      configs: new Map(),
      disabled: [],
      required: [],
      daemon,
      log: silentLogger,
    });
    await expect(loaded.close()).resolves.toBeUndefined();
    expect(closed).toEqual(["local"]);
  });
});

describe("loadPlugins: config", () => {
  const configured = (id: string, received: Map<string, unknown>) =>
    definePlugin({
      type: Snapshot,
      id,
      config: {
        rootPath: field.string(""),
        syncRemove: field.boolean(false),
        mountOptions: field.stringArray(["index=off"]),
        gcDelay: field.duration(1_000),
      },
      init: (ctx, config) => {
        received.set(ctx.uri, config);
        return { name: id, deps: [] };
      },
    });

  it("passes the decoded config for the plugin's URI when there is one, else the schema defaults", async () => {
    const received = new Map<string, unknown>();
    const given = { rootPath: "/data", syncRemove: true, mountOptions: [], gcDelay: 5_000 };
    await load([configured("overlayfs", received), configured("native", received)], {
      configs: new Map([["io.test.snapshotter.v1.overlayfs", given]]),
    });
    expect(received.get("io.test.snapshotter.v1.overlayfs")).toBe(given);
    expect(received.get("io.test.snapshotter.v1.native")).toEqual({
      rootPath: "",
      syncRemove: false,
      mountOptions: ["index=off"],
      gcDelay: 1_000,
    });
  });

  it("passes an empty object to a plugin without a schema", async () => {
    let config: unknown;
    await load([
      definePlugin({
        type: Content,
        id: "local",
        init: (_ctx, c) => {
          config = c;
          return { name: "local", deps: [] };
        },
      }),
    ]);
    expect(config).toEqual({});
  });

  it("keys configs by the full <type>.<id> URI, not by id alone", async () => {
    const received = new Map<string, unknown>();
    await load([configured("overlayfs", received)], {
      configs: new Map([["overlayfs", { rootPath: "/wrong", syncRemove: true, mountOptions: [], gcDelay: 1 }]]),
    });
    expect((received.get(pluginUri({ type: Snapshot, id: "overlayfs" })) as { rootPath: string }).rootPath).toBe("");
  });
});

describe("plugins registered while the daemon runs", () => {
  it("show up in statuses and in maps handed out at init, and leave again", async () => {
    let seen: ReadonlyMap<string, Store> | undefined;
    const metadata = definePlugin({
      type: Metadata,
      id: "meta",
      requires: [optional(Snapshot)],
      init: (ctx) => {
        seen = ctx.all(Snapshot); // no snapshotter loaded yet: the map must still be live
        return { name: "meta", deps: [] };
      },
    });
    const loaded = await load([metadata]);
    const closed: string[] = [];
    loaded.register({ type: Snapshot, id: "remote", instance: { name: "remote", deps: [] }, close: () => void closed.push("remote") });

    expect(seen?.get("remote")?.name).toBe("remote");
    expect(loaded.get(Snapshot, "remote")?.name).toBe("remote");
    expect(loaded.statuses().find((s) => s.uri === "io.test.snapshotter.v1.remote")?.state).toBe("ok");
    expect(() => loaded.register({ type: Snapshot, id: "remote", instance: { name: "again", deps: [] } })).toThrow(/already exists/);

    await loaded.unregister(Snapshot, "remote");
    expect(closed).toEqual(["remote"]);
    expect(seen?.has("remote")).toBe(false);
    expect(loaded.statuses().some((s) => s.id === "remote")).toBe(false);
    await expect(loaded.unregister(Snapshot, "remote")).rejects.toMatchObject({ errClass: "NotFound" });
    await expect(loaded.unregister(Metadata, "meta")).rejects.toMatchObject({ errClass: "FailedPrecondition" });
  });

  it("are closed at shutdown, before the plugins loaded at start", async () => {
    const order: string[] = [];
    const local = definePlugin({
      type: Snapshot,
      id: "local",
      init: (ctx) => {
        ctx.onClose(() => void order.push("local"));
        return { name: "local", deps: [] };
      },
    });
    const loaded = await load([local]);
    loaded.register({ type: Snapshot, id: "remote", instance: { name: "remote", deps: [] }, close: () => void order.push("remote") });
    await loaded.close();
    expect(order).toEqual(["remote", "local"]);
  });
});
