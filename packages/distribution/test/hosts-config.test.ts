import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { configureHosts, parseHostsFile } from "../src/index.js";
import { rejection, tempDir } from "./support/helpers.js";

async function hostsDir(files: Record<string, string>): Promise<string> {
  const root = await tempDir("berth-certsd-");
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

describe("hosts.toml (containerd's layout)", () => {
  it("lists mirrors in file order, then the server, with every setting", () => {
    const entries = parseHostsFile(
      `
server = "https://registry.example.com"
capabilities = ["pull", "resolve", "push"]

[host."https://mirror-b.example.com"]
  capabilities = ["pull"]
  skip_verify = true
  ca = "certs/ca.crt"
  client = [["client.crt", "client.key"], "both.pem"]
  dial_timeout = "1.5s"
  [host."https://mirror-b.example.com".header]
    x-custom = "1"
    x-list = ["a", "b"]

[host."http://mirror-a.example.com:5000/prefix"]
  capabilities = ["pull", "resolve"]
  ca = ["/abs/one.crt", "two.crt"]

[host."https://odd.example.com/api/custom"]
  override_path = true
`,
      "/etc/berth/certs.d/registry.example.com",
    );
    expect(entries.map((e) => [e.scheme, e.host, e.path, [...e.capabilities].sort()])).toEqual([
      ["https", "mirror-b.example.com", "/v2", ["pull"]],
      ["http", "mirror-a.example.com:5000", "/prefix/v2", ["pull", "resolve"]],
      ["https", "odd.example.com", "/api/custom", ["pull", "push", "resolve"]],
      ["https", "registry.example.com", "/v2", ["pull", "push", "resolve"]],
    ]);
    const b = entries[0]!;
    expect(b.tls).toEqual({
      skipVerify: true,
      caFiles: ["/etc/berth/certs.d/registry.example.com/certs/ca.crt"],
      clientPairs: [
        ["/etc/berth/certs.d/registry.example.com/client.crt", "/etc/berth/certs.d/registry.example.com/client.key"],
        ["/etc/berth/certs.d/registry.example.com/both.pem", undefined],
      ],
    });
    expect(b.header).toEqual({ "x-custom": ["1"], "x-list": ["a", "b"] });
    expect(b.dialTimeoutMs).toBe(1500);
    expect(entries[1]!.tls.caFiles).toEqual(["/abs/one.crt", "/etc/berth/certs.d/registry.example.com/two.crt"]);
  });

  it("leaves the server to the caller when the file names none", () => {
    const entries = parseHostsFile(`[host."http://127.0.0.1:9999"]\n`, "/d");
    expect(entries).toHaveLength(2);
    expect(entries[1]!.host).toBeUndefined();
  });

  it.each([
    ["server = ", /not valid TOML at line 1/],
    [`[host."https://m"]\ncapabilities = ["pull", "fly"]`, /unknown capability "fly"/],
    [`skip_verify = "yes"`, /skip_verify must be true or false/],
    [`dial_timeout = "soon"`, /dial_timeout "soon" is not a duration/],
    [`server = "ftp://x"`, /must be http or https/],
  ])("rejects %j with InvalidArgument naming the file", (text, message) => {
    let error: unknown;
    try {
      parseHostsFile(text, "/d", "/d/hosts.toml");
    } catch (err) {
      error = err;
    }
    expect(classOf(error)).toBe("InvalidArgument");
    expect((error as Error).message).toMatch(/^\/d\/hosts\.toml: /);
    expect((error as Error).message).toMatch(message);
  });
});

describe("configureHosts", () => {
  it("finds <host>_<port>_, then <host:port>, then _default", async () => {
    const root = await hostsDir({
      "reg.example_5000_/hosts.toml": `server = "https://underscored.example"`,
      "reg.example:6000/hosts.toml": `server = "https://colon.example"`,
      "_default/hosts.toml": `server = "https://default.example"`,
    });
    const hosts = configureHosts({ configPath: root });
    expect((await hosts("reg.example:5000"))[0]!.host).toBe("underscored.example");
    expect((await hosts("reg.example:6000"))[0]!.host).toBe("colon.example");
    expect((await hosts("other.example"))[0]!.host).toBe("default.example");
  });

  it("uses the registry itself when nothing is configured: https, docker.io's real host, plain HTTP on request", async () => {
    const hosts = configureHosts();
    expect(await hosts("ghcr.io")).toMatchObject([{ scheme: "https", host: "ghcr.io", path: "/v2", httpFallback: false }]);
    expect(await hosts("docker.io")).toMatchObject([{ scheme: "https", host: "registry-1.docker.io", path: "/v2" }]);
    expect(await hosts("127.0.0.1:5000")).toMatchObject([{ scheme: "https", host: "127.0.0.1:5000", httpFallback: true, tls: { skipVerify: true } }]);
    expect(await hosts("localhost")).toMatchObject([{ scheme: "https", httpFallback: false }]);
    expect(await configureHosts({ plainHttp: true })("ghcr.io")).toMatchObject([{ scheme: "http", host: "ghcr.io" }]);
    expect(await configureHosts({ plainHttp: (h) => h === "a.example" })("b.example")).toMatchObject([{ scheme: "https" }]);
  });

  it("reads docker's certs.d layout when there is no hosts.toml", async () => {
    const root = await hostsDir({ "reg.example/ca.crt": "", "reg.example/me.cert": "", "reg.example/me.key": "", "reg.example/other.cert": "" });
    const [host] = await configureHosts({ configPath: root })("reg.example");
    expect(host).toMatchObject({ scheme: "https", host: "reg.example", path: "/v2" });
    expect(host!.tls).toEqual({
      caFiles: [join(root, "reg.example/ca.crt")],
      clientPairs: [
        [join(root, "reg.example/me.cert"), join(root, "reg.example/me.key")],
        [join(root, "reg.example/other.cert"), undefined],
      ],
    });
  });

  it("tries https first for an http server that has TLS settings (containerd's fallback)", async () => {
    const root = await hostsDir({ "reg.example/hosts.toml": `server = "http://reg.example:5000"\nskip_verify = true\n` });
    expect(await configureHosts({ configPath: root })("reg.example")).toMatchObject([{ scheme: "https", httpFallback: true }]);
  });

  it("fails on a broken hosts.toml instead of silently ignoring it", async () => {
    const root = await hostsDir({ "reg.example/hosts.toml": `[host."x"\n` });
    const err = await rejection(configureHosts({ configPath: root })("reg.example"));
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toContain(join(root, "reg.example/hosts.toml"));
  });
});
