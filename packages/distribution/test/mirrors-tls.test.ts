import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fixtureBlob, freePort, makeCerts, startProxy, startRegistry, type TestCerts, type TestRegistry } from "@berth/testing";
import { newResolver, onCleanup, readAll, rejection, tempDir } from "./support/helpers.js";

const fixtureRegistry = inject("fixtureRegistry");
const fixtures = inject("fixtures");
const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.tiny.layers![0]! };

/** A config_path directory with one hosts.toml (and extra files) for `domain`. */
async function hostsDir(domain: string, toml: string, files: Record<string, string> = {}): Promise<string> {
  const root = await tempDir("berth-hosts-");
  await mkdir(join(root, domain), { recursive: true });
  await writeFile(join(root, domain, "hosts.toml"), toml);
  for (const [name, source] of Object.entries(files)) await copyFile(source, join(root, domain, name));
  return root;
}

async function proxyTo(upstream: string, opts?: Parameters<typeof startProxy>[1]) {
  const p = await startProxy(upstream, opts);
  onCleanup(() => p.close());
  return p;
}

describe("mirrors from hosts.toml", () => {
  let empty: TestRegistry;
  beforeAll(async () => {
    empty = await startRegistry();
  });
  afterAll(() => empty?.stop());

  it("tries mirrors in order (one refusing connections, one answering 404), then the server", async () => {
    const refusing = `127.0.0.1:${await freePort()}`;
    const emptyMirror = await proxyTo(empty.host);
    const server = await proxyTo(fixtureRegistry);
    const root = await hostsDir(
      "registry.invalid",
      `server = "http://${server.host}"

[host."http://${refusing}"]
  capabilities = ["pull", "resolve"]

[host."http://${emptyMirror.host}"]
  capabilities = ["pull", "resolve"]
  [host."http://${emptyMirror.host}".header]
    x-berth-mirror = "empty"
`,
    );
    const resolver = newResolver({ hostsDir: root });
    const { name, descriptor } = await resolver.resolve("registry.invalid/tiny");
    expect(name).toBe("registry.invalid/tiny:latest");
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    const bytes = await readAll(resolver.fetcher(name).fetch(layer));
    expect(bytes.equals(fixtureBlob("tiny", layer.digest))).toBe(true);

    // The 404 mirror was asked first (with ?ns= and its header), and answered 404 each time.
    expect(emptyMirror.requests.map((r) => [r.method, r.path, r.status, r.headers["x-berth-mirror"]])).toEqual([
      ["HEAD", "/v2/tiny/manifests/latest?ns=registry.invalid", 404, "empty"],
      ["GET", `/v2/tiny/blobs/${layer.digest}?ns=registry.invalid`, 404, "empty"],
    ]);
    expect(server.requests.map((r) => [r.method, r.status, r.headers["x-berth-mirror"]])).toEqual([
      ["HEAD", 200, undefined],
      ["GET", 200, undefined],
    ]);
  });

  it("uses a pull-only mirror for blobs but never to resolve a tag; pushes go to the server", async () => {
    const mirror = await proxyTo(fixtureRegistry);
    const server = await proxyTo(fixtureRegistry);
    const root = await hostsDir(
      "registry.invalid",
      `server = "http://${server.host}"\n[host."http://${mirror.host}"]\n  capabilities = ["pull"]\n`,
    );
    const resolver = newResolver({ hostsDir: root });
    await resolver.resolve("registry.invalid/tiny:latest");
    await readAll(resolver.fetcher("registry.invalid/tiny").fetch(layer));
    expect(mirror.requests.map((r) => r.method + " " + r.path.split("?")[0])).toEqual([`GET /v2/tiny/blobs/${layer.digest}`]);
    expect(server.requests.map((r) => r.method + " " + r.path.split("?")[0])).toEqual(["HEAD /v2/tiny/manifests/latest"]);

    await resolver.pusher("registry.invalid/tiny").push(layer, fixtureBlob("tiny", layer.digest));
    expect(mirror.requests).toHaveLength(1);
    expect(server.requests.at(-1)!.method).toBe("HEAD");
  });

  it("sends requests to a custom API root with override_path", async () => {
    const custom = await proxyTo(fixtureRegistry, { rewrite: (p) => p.replace(/^\/custom\/api\//, "/v2/") });
    const root = await hostsDir("registry.invalid", `[host."http://${custom.host}/custom/api"]\n  override_path = true\n`);
    const { descriptor } = await newResolver({ hostsDir: root }).resolve("registry.invalid/tiny");
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    expect(custom.requests[0]!.path).toBe("/custom/api/tiny/manifests/latest?ns=registry.invalid");
  });
});

describe("TLS endpoints (ca, skip_verify, client certificates)", () => {
  let certs: TestCerts;
  let tlsRegistry: TestRegistry;
  let mtlsRegistry: TestRegistry;
  let certDir: string;
  beforeAll(async () => {
    certs = await makeCerts();
    certDir = join(certs.dir, "skopeo");
    await mkdir(certDir);
    await copyFile(certs.caCert, join(certDir, "ca.crt"));
    await copyFile(certs.clientCert, join(certDir, "client.cert"));
    await copyFile(certs.clientKey, join(certDir, "client.key"));
    tlsRegistry = await startRegistry({ tls: { cert: certs.serverCert, key: certs.serverKey }, images: ["tiny"] });
    mtlsRegistry = await startRegistry({
      tls: { cert: certs.serverCert, key: certs.serverKey, clientCas: [certs.caCert] },
      images: ["tiny"],
      pushCertDir: certDir,
    });
  });
  afterAll(async () => {
    await tlsRegistry?.stop();
    await mtlsRegistry?.stop();
    await certs?.remove();
  });

  it("trusts the registry's CA from hosts.toml ca", async () => {
    const h = tlsRegistry.host;
    const root = await hostsDir(h, `server = "https://${h}"\nca = "ca.crt"\n`, { "ca.crt": certs.caCert });
    expect((await newResolver({ hostsDir: root }).resolve(`${h}/tiny`)).descriptor.digest).toBe(fixtures.tiny.digest);
  });

  it("refuses an unknown CA with Unavailable naming the certificate problem, unless skip_verify", async () => {
    const h = tlsRegistry.host;
    const strict = await hostsDir(h, `server = "https://${h}"\n`);
    const err = await rejection(newResolver({ hostsDir: strict }).resolve(`${h}/tiny`));
    expect(classOf(err)).toBe("Unavailable");
    expect(err.message).toMatch(/unable to verify the first certificate/);
    expect(err.message).toContain('trust the registry\'s CA with hosts.toml ca = "…"');
    const lax = await hostsDir(h, `server = "https://${h}"\nskip_verify = true\n`);
    expect((await newResolver({ hostsDir: lax }).resolve(`${h}/tiny`)).descriptor.digest).toBe(fixtures.tiny.digest);
  });

  it("presents a client certificate from hosts.toml client, and fails without one", async () => {
    const h = mtlsRegistry.host;
    const withClient = await hostsDir(h, `server = "https://${h}"\nca = "ca.crt"\nclient = [["client.crt", "client.key"]]\n`, {
      "ca.crt": certs.caCert,
      "client.crt": certs.clientCert,
      "client.key": certs.clientKey,
    });
    const resolver = newResolver({ hostsDir: withClient });
    expect((await resolver.resolve(`${h}/tiny`)).descriptor.digest).toBe(fixtures.tiny.digest);
    expect((await readAll(resolver.fetcher(`${h}/tiny`).fetch(layer))).equals(fixtureBlob("tiny", layer.digest))).toBe(true);

    const without = await hostsDir(h, `server = "https://${h}"\nca = "ca.crt"\n`, { "ca.crt": certs.caCert });
    const err = await rejection(newResolver({ hostsDir: without, retry: { attempts: 1 } }).resolve(`${h}/tiny`));
    expect(classOf(err)).toBe("Unavailable");
    expect(err.message).toContain("the registry may require a client certificate");
  });

  it("reads docker's certs.d layout (ca.crt, client.cert, client.key) when there is no hosts.toml", async () => {
    const h = mtlsRegistry.host;
    const root = await tempDir("berth-certsd-");
    await mkdir(join(root, h));
    for (const name of ["ca.crt", "client.cert", "client.key"]) await copyFile(join(certDir, name), join(root, h, name));
    expect((await newResolver({ hostsDir: root }).resolve(`${h}/tiny`)).descriptor.digest).toBe(fixtures.tiny.digest);
  });
});
