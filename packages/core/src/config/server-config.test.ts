import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BerthError } from "../errdefs/index.js";
import { definePlugin, type PluginRegistration } from "../plugin/define-plugin.js";
import { pluginType } from "../plugin/plugin-type.js";
import { renderConfig } from "./render-config.js";
import { field, parseDuration } from "./schema.js";
import {
  ConfigError,
  decodePluginConfigs,
  decodeServerConfig,
  defaultServerConfig,
  DEFAULT_ADDRESS,
  DEFAULT_ROOT,
  DEFAULT_STATE,
  loadConfigFile,
  type ServerConfig,
} from "./server-config.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-core-config-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(text: string, name = "config.toml"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

const TestType = pluginType<unknown>("io.test.v1");

const schemaPlugin = definePlugin({
  type: TestType,
  id: "x",
  config: {
    someKey: field.integer(1, 0, 10),
    rootPath: field.string("/default/path"),
    gcDelay: field.duration(2_500),
    mode: field.oneOf("fast", ["fast", "safe"] as const),
    labels: field.stringMap({ tier: "base" }),
  },
  init: () => ({}),
}) as PluginRegistration;

const schemalessPlugin = definePlugin({ type: pluginType<unknown>("io.test.other.v1"), id: "plain", init: () => ({}) }) as PluginRegistration;

describe("decodeServerConfig: defaults", () => {
  it("fills every value from the defaults for an empty document", () => {
    const { config, warnings } = decodeServerConfig({}, "defaults");
    expect(warnings).toEqual([]);
    expect(config.version).toBe(2);
    expect(config.root).toBe("/var/lib/berth");
    expect(config.state).toBe("/run/berth");
    expect(config.grpc.address).toBe("/run/berth/berthd.sock");
    expect(config.root).toBe(DEFAULT_ROOT);
    expect(config.state).toBe(DEFAULT_STATE);
    expect(config.grpc.address).toBe(DEFAULT_ADDRESS);
    expect(config.disabledPlugins).toEqual([]);
    expect(config.requiredPlugins).toEqual([]);
    expect(config.pluginInitTimeout).toBe(60_000);
    expect(config.grpc.uid).toBe(0);
    expect(config.grpc.maxRecvMessageSize).toBe(16 * 1024 * 1024);
    expect(config.debug.level).toBe("info");
    expect(config.metrics.grpcHistogram).toBe(true);
    expect(config.plugins).toEqual({});
    expect(config.proxyPlugins).toEqual({});
    expect(defaultServerConfig()).toEqual(config);
  });
});

describe("loadConfigFile", () => {
  const fullFile = `
version = 3
root = "/srv/berth"
state = "/run/berth-test"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs"]
required_plugins = ["io.containerd.grpc.v1.cri"]
plugin_init_timeout = "1m30s"

[grpc]
address = "/tmp/berth.sock"
tcp_address = "127.0.0.1:9000"
uid = 1000
gid = 1001
max_recv_message_size = 1048576
max_send_message_size = 2097152

[ttrpc]
address = "/tmp/berth.ttrpc.sock"
uid = 5
gid = 6

[debug]
address = "/tmp/debug.sock"
level = "trace"
format = "json"

[metrics]
address = "127.0.0.1:1338"
grpc_histogram = false

[plugins."io.test.v1.x"]
some_key = 3

[proxy_plugins.stargz]
type = "snapshot"
address = "/run/stargz.sock"

[proxy_plugins.stargz.exports]
root = "/var/lib/stargz"
`;

  it("reads a full valid file into the same values", async () => {
    const path = await writeConfig(fullFile);
    const { config, warnings } = await loadConfigFile(path);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      version: 3,
      root: "/srv/berth",
      state: "/run/berth-test",
      disabledPlugins: ["io.containerd.snapshotter.v1.btrfs"],
      requiredPlugins: ["io.containerd.grpc.v1.cri"],
      pluginInitTimeout: 90_000,
      grpc: {
        address: "/tmp/berth.sock",
        tcpAddress: "127.0.0.1:9000",
        uid: 1000,
        gid: 1001,
        maxRecvMessageSize: 1048576,
        maxSendMessageSize: 2097152,
      },
      ttrpc: { address: "/tmp/berth.ttrpc.sock", uid: 5, gid: 6 },
      debug: { address: "/tmp/debug.sock", level: "trace", format: "json" },
      metrics: { address: "127.0.0.1:1338", grpcHistogram: false },
      plugins: { "io.test.v1.x": { some_key: 3 } },
      proxyPlugins: { stargz: { type: "snapshot", address: "/run/stargz.sock", exports: { root: "/var/lib/stargz" } } },
    } satisfies ServerConfig);
  });

  it("survives render → parse → decode unchanged", async () => {
    const path = await writeConfig(fullFile);
    const { config } = await loadConfigFile(path);
    const text = renderConfig(config, [], new Map());
    const again = decodeServerConfig(parse(text) as Record<string, unknown>, "rendered");
    expect(again.warnings).toEqual([]);
    expect({ ...again.config, plugins: {} }).toEqual({ ...config, plugins: {} });
  });

  it.each([
    ["root = 5", "root", "a string", "number 5"],
    ['[grpc]\nuid = "x"', "grpc.uid", "an integer from 0", '"x"'],
    ["[grpc]\nuid = -1", "grpc.uid", "an integer from 0", "-1"],
    ['disabled_plugins = "a"', "disabled_plugins", "an array of strings", '"a"'],
    ["disabled_plugins = [1, 2]", "disabled_plugins", "an array of strings", "an array"],
    ["version = 1", "version", "an integer from 2 to 3", "1"],
    ['[debug]\nlevel = "loud"', "debug.level", "one of: trace, debug, info, warn, error, fatal", '"loud"'],
    ["[metrics]\ngrpc_histogram = 1", "metrics.grpc_histogram", "true or false", "1"],
    ['plugin_init_timeout = "10 parsecs"', "plugin_init_timeout", "a duration", '"10 parsecs"'],
    ["grpc = 5", "grpc", "a table", undefined],
  ])("rejects %j naming the key, the file and what was expected", async (text, key, expected, got) => {
    const path = await writeConfig(text + "\n");
    const err = await configErrorAsync(loadConfigFile(path));
    expect(err.source).toBe(path);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.key).toBe(key);
    expect(err.message).toContain(path);
    expect(err.message).toContain(`${key}: `);
    expect(err.message).toContain(expected);
    if (got !== undefined) expect(err.issues[0]?.message).toContain(got);
  });

  it("reports every bad value at once", async () => {
    const path = await writeConfig(`
root = 5
version = 1
disabled_plugins = "a"
[grpc]
uid = "x"
gid = 1.5
[debug]
level = "loud"
[proxy_plugins.p]
type = "image"
`);
    const err = await configErrorAsync(loadConfigFile(path));
    expect(err.issues.map((i) => i.key).sort()).toEqual(
      ["root", "version", "disabled_plugins", "grpc.uid", "grpc.gid", "debug.level", "proxy_plugins.p.type", "proxy_plugins.p.address"].sort(),
    );
    for (const issue of err.issues) expect(err.message).toContain(`${issue.key}: `);
  });

  it("warns about unknown keys, naming them, without failing", async () => {
    const path = await writeConfig(`
oom_score = -999
root = "/srv/berth"
[grpc]
address = "/tmp/x.sock"
max_message_size = 5
[cgroup]
path = "/berth"
`);
    const { config, warnings } = await loadConfigFile(path);
    expect(config.root).toBe("/srv/berth");
    expect(config.grpc.address).toBe("/tmp/x.sock");
    expect(warnings.map((w) => w.key).sort()).toEqual(["cgroup", "grpc.max_message_size", "oom_score"]);
    for (const w of warnings) expect(w.message).toMatch(/unknown/i);
  });

  it("names the file, line and column of a TOML syntax error", async () => {
    const path = await writeConfig('root = "/srv"\n[grpc]\naddress = "unterminated\n');
    const err = await configErrorAsync(loadConfigFile(path));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/line 3, column \d+/);
    expect(err.issues).toHaveLength(1);
  });

  it("gives the right column for a syntax error", async () => {
    const path = await writeConfig("a = 1\n  b = @\nc = 3\n");
    const err = await configErrorAsync(loadConfigFile(path));
    expect(err.issues[0]?.key).toBe("line 2, column 7");
    expect(err.message).toContain(`${path}:\n  line 2, column 7: `);
  });

  it("rejects a missing file with InvalidArgument naming the path", async () => {
    const path = join(dir, "does-not-exist.toml");
    let caught: unknown;
    try {
      await loadConfigFile(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BerthError);
    expect((caught as BerthError).errClass).toBe("InvalidArgument");
    expect((caught as BerthError).message).toContain(path);
  });
});

describe("durations", () => {
  const timeout = (value: string) => decodeServerConfig(parse(`plugin_init_timeout = ${value}`) as Record<string, unknown>, "test").config.pluginInitTimeout;

  it.each([
    ['"10s"', 10_000],
    ['"1m30s"', 90_000],
    ['"250ms"', 250],
    ['"1h"', 3_600_000],
    ['"1.5s"', 1_500],
    ['"2m"', 120_000],
    ['"0"', 0],
    ["15", 15_000],
  ])("decodes %s", (value, ms) => {
    expect(timeout(value)).toBe(ms);
  });

  it.each(['"10 parsecs"', '"10"', '""', '"s"', '"10sx"', "-1"])("rejects %s", (value) => {
    const err = configError(() => timeout(value));
    expect(err.issues[0]?.key).toBe("plugin_init_timeout");
    expect(err.message).toContain("a duration");
  });

  it("parseDuration parses Go's units and rejects malformed text", () => {
    expect(parseDuration("1h2m3s4ms")).toBe(3_600_000 + 120_000 + 3_000 + 4);
    expect(parseDuration("500us")).toBeCloseTo(0.5);
    expect(parseDuration("5ms")).toBe(5);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("10 parsecs")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });
});

describe("decodePluginConfigs", () => {
  const decodeTables = (text: string) => {
    const doc = parse(text) as Record<string, unknown>;
    const { config } = decodeServerConfig(doc, "config.toml");
    return decodePluginConfigs([schemaPlugin, schemalessPlugin], config.plugins, "config.toml");
  };

  it("decodes snake_case TOML keys into the schema's camelCase fields", () => {
    const { configs, warnings } = decodeTables(`
[plugins."io.test.v1.x"]
some_key = 3
root_path = "/data"
gc_delay = "1m"
mode = "safe"
labels = { a = "b" }
`);
    expect(warnings).toEqual([]);
    expect(configs.get("io.test.v1.x")).toEqual({ someKey: 3, rootPath: "/data", gcDelay: 60_000, mode: "safe", labels: { a: "b" } });
    // No schema, no entry: the loader gives such plugins {}.
    expect(configs.has("io.test.other.v1.plain")).toBe(false);
  });

  it("uses the schema defaults for a plugin with no table", () => {
    const { configs } = decodeTables("");
    expect(configs.get("io.test.v1.x")).toEqual({
      someKey: 1,
      rootPath: "/default/path",
      gcDelay: 2_500,
      mode: "fast",
      labels: { tier: "base" },
    });
  });

  it("names the plugin's quoted table and snake_case key for a bad value", () => {
    const err = configError(() =>
      decodeTables(`
[plugins."io.test.v1.x"]
some_key = "three"
mode = "reckless"
`),
    );
    expect(err.source).toBe("config.toml");
    expect(err.issues.map((i) => i.key).sort()).toEqual(['plugins."io.test.v1.x".mode', 'plugins."io.test.v1.x".some_key']);
    expect(err.message).toContain('plugins."io.test.v1.x".some_key: expected an integer from 0 to 10');
    expect(err.message).toContain("config.toml");
  });

  it("warns about unknown keys in a plugin's table", () => {
    const { warnings, configs } = decodeTables(`
[plugins."io.test.v1.x"]
some_key = 4
someKey = 5
`);
    expect(warnings.map((w) => w.key)).toEqual(['plugins."io.test.v1.x".someKey']);
    expect((configs.get("io.test.v1.x") as { someKey: number }).someKey).toBe(4);
  });

  it("warns, not fails, about a table for a plugin that is not installed", () => {
    const { warnings } = decodeTables(`
[plugins."io.containerd.snapshotter.v1.zfs"]
root_path = "/tank"
`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.key).toBe('plugins."io.containerd.snapshotter.v1.zfs"');
    expect(warnings[0]?.message).toMatch(/not installed|no such plugin/);
  });
});

describe("renderConfig", () => {
  const registrations = [schemaPlugin, schemalessPlugin];

  it("renders the defaults as TOML that decodes back to the defaults", () => {
    const defaults = defaultServerConfig();
    const text = renderConfig(defaults, registrations, new Map());
    const doc = parse(text) as Record<string, unknown>;
    const { config, warnings } = decodeServerConfig(doc, "rendered");
    expect(warnings).toEqual([]);
    expect({ ...config, plugins: {} }).toEqual(defaults);
  });

  it("has a [plugins.\"<uri>\"] table for every registration, with effective values", () => {
    const text = renderConfig(defaultServerConfig(), registrations, new Map());
    expect(text).toContain('[plugins."io.test.v1.x"]');
    expect(text).toContain('[plugins."io.test.other.v1.plain"]');
    const doc = parse(text) as { plugins: Record<string, unknown> };
    expect(Object.keys(doc.plugins).sort()).toEqual(["io.test.other.v1.plain", "io.test.v1.x"]);
    // The rendered plugin tables decode back to the schema defaults without warnings.
    const { configs, warnings } = decodePluginConfigs(registrations, doc.plugins, "rendered");
    expect(warnings).toEqual([]);
    expect(configs.get("io.test.v1.x")).toEqual({
      someKey: 1,
      rootPath: "/default/path",
      gcDelay: 2_500,
      mode: "fast",
      labels: { tier: "base" },
    });
  });

  it("renders given plugin configs and non-default server values so they round-trip", () => {
    const config: ServerConfig = {
      ...defaultServerConfig(),
      root: "/srv/b",
      pluginInitTimeout: 90_000,
      disabledPlugins: ["io.x.v1.a"],
      debug: { address: "", level: "debug", format: "json" },
    };
    const given = { someKey: 7, rootPath: "/p", gcDelay: 61_500, mode: "safe", labels: {} };
    const text = renderConfig(config, registrations, new Map([["io.test.v1.x", given]]));
    const doc = parse(text) as Record<string, unknown>;
    const decoded = decodeServerConfig(doc, "rendered").config;
    expect({ ...decoded, plugins: {} }).toEqual(config);
    const { configs } = decodePluginConfigs(registrations, decoded.plugins, "rendered");
    expect(configs.get("io.test.v1.x")).toEqual(given);
  });
});
