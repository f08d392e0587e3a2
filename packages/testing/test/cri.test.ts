import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCriImages,
  CRI_SANDBOX_IMAGE,
  exec,
  requireRoot,
  requireTool,
  startCriRegistry,
  startPrivateContainerd,
  writeCriCniConf,
  type CriCniNetwork,
  type CriImageSummary,
  type CriRegistry,
} from "../src/index.js";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** `registry.k8s.io/e2e-test-images/busybox:1.29-2` → `/v2/e2e-test-images/busybox/manifests/1.29-2` */
function manifestPath(reference: string): string {
  const path = reference.slice(reference.indexOf("/") + 1);
  const colon = path.lastIndexOf(":");
  return `/v2/${path.slice(0, colon)}/manifests/${path.slice(colon + 1)}`;
}

describe("CRI fixtures", () => {
  let tmp: string;
  let images: CriImageSummary;
  beforeAll(async () => {
    requireRoot("the registry, containerd and CNI need it");
    tmp = await mkdtemp(join(tmpdir(), "berth-cri-fixtures-"));
    images = await buildCriImages();
  }, 300_000);
  afterAll(() => tmp && rm(tmp, { recursive: true, force: true }));

  it("builds every image critest pulls into one OCI layout, tagged with the original references", async () => {
    expect(Object.keys(images.images)).toEqual(
      expect.arrayContaining([
        CRI_SANDBOX_IMAGE,
        "registry.k8s.io/e2e-test-images/busybox:1.29-2",
        "registry.k8s.io/e2e-test-images/nginx:1.14-2",
        "gcr.io/k8s-staging-cri-tools/test-image-tags:3",
      ]),
    );
    const index = JSON.parse(await readFile(join(images.layout, "index.json"), "utf8")) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    const tagged = Object.fromEntries(index.manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"], m.digest]));
    for (const [ref, image] of Object.entries(images.images)) expect(tagged[ref], ref).toBe(image.manifest);
  });

  it("callers that race wait for one build, renamed into place whole", async () => {
    const dir = join(tmp, "cri-images");
    const [a, b] = await Promise.all([buildCriImages({ dir }), buildCriImages({ dir })]);
    expect(a.dir).toBe(dir);
    expect(b.images).toEqual(a.images);
    // Reproducible: the same packages give the same digests as the shared cache.
    expect(a.images[CRI_SANDBOX_IMAGE]?.manifest).toBe(images.images[CRI_SANDBOX_IMAGE]?.manifest);
    expect((await readdir(tmp)).filter((n) => n !== "cri-images")).toEqual([]); // no scratch dir, no lock left
    expect(await buildCriImages({ dir })).toEqual(a);
  }, 300_000);

  describe("registry", () => {
    let registry: CriRegistry;
    beforeAll(async () => {
      registry = await startCriRegistry();
    }, 300_000);
    afterAll(() => registry?.stop());

    it("serves every image under its original path, with its digest", async () => {
      expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(registry.references).toHaveLength(Object.keys(images.images).length);
      for (const ref of registry.references) {
        const res = await fetch(`http://${registry.host}${manifestPath(ref)}`, { method: "HEAD", headers: { accept: MANIFEST } });
        expect(res.status, ref).toBe(200);
        expect(res.headers.get("docker-content-digest"), ref).toBe(images.images[ref]?.manifest);
      }
    });

    it("hosts.toml files make Debian's containerd pull by the original names, and only from it", async () => {
      const hostsDir = await registry.writeHostsDir(join(tmp, "certs.d"));
      expect((await readdir(hostsDir)).sort()).toEqual(["gcr.io", "registry.k8s.io"]);
      expect(await readFile(join(hostsDir, "gcr.io", "hosts.toml"), "utf8")).toContain(`server = "http://${registry.host}"`);
      const containerd = await startPrivateContainerd();
      try {
        const ctr = containerd.ctrIn("cri-fixtures");
        const busybox = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
        await ctr("images", "pull", "--hosts-dir", hostsDir, busybox);
        await ctr("images", "pull", "--hosts-dir", hostsDir, "gcr.io/k8s-staging-cri-tools/test-image-tags:2");
        const listed = await ctr("images", "ls");
        expect(listed).toContain(images.images[busybox]?.manifest);
        expect(listed).toContain("gcr.io/k8s-staging-cri-tools/test-image-tags:2");
        // Not pushed anywhere: fails with not found, without going to the real gcr.io.
        await expect(ctr("images", "pull", "--hosts-dir", hostsDir, "gcr.io/k8s-staging-cri-tools/test-image-digest:none")).rejects.toThrow(
          /not found/,
        );
      } finally {
        await containerd.stop();
      }
    }, 120_000);
  });

  describe("CNI network", () => {
    const nets: CriCniNetwork[] = [];
    afterAll(async () => {
      for (const net of nets) await net.remove();
    });

    it("gives each network its own bridge and subnet", async () => {
      const a = await writeCriCniConf(join(tmp, "net-a"));
      const b = await writeCriCniConf(join(tmp, "net-b"));
      nets.push(a, b);
      expect(a.bridge).not.toBe(b.bridge);
      expect(a.subnet).not.toBe(b.subnet);
      expect(await readdir(a.confDir)).toEqual(["10-critest.conflist"]);
      const conf = JSON.parse(await readFile(a.conflist, "utf8")) as { name: string; plugins: Array<{ type: string; bridge?: string }> };
      expect(conf.name).toBe(a.bridge);
      expect(conf.plugins.map((p) => p.type)).toEqual(["bridge", "portmap", "loopback"]);
      expect(conf.plugins[0]?.bridge).toBe(a.bridge);
    });

    it("the conflist attaches a network namespace with Debian's CNI plugins and releases its address", async () => {
      await requireTool("ip", "iproute2");
      if (!existsSync("/usr/lib/cni/bridge")) throw new Error("/usr/lib/cni/bridge is missing (apt-get install containernetworking-plugins)");
      const net = await writeCriCniConf(join(tmp, "net-c"));
      nets.push(net);
      const ns = `berth-cri-${process.pid}`;
      await exec("ip", ["netns", "add", ns]);
      try {
        const added = (await runConflist("ADD", net, ns)) as { ips?: Array<{ address: string }> };
        const ip = added.ips?.[0]?.address.split("/")[0] ?? "";
        expect(ip.startsWith(net.gateway.replace(/\.1$/, "."))).toBe(true);
        expect((await exec("ip", ["netns", "exec", ns, "ip", "-4", "-o", "addr", "show", "eth0"])).stdout).toContain(ip);
        expect((await exec("ip", ["-4", "-o", "addr", "show", net.bridge])).stdout).toContain(net.gateway);
        expect(existsSync(join(net.ipamDataDir, net.bridge, ip))).toBe(true);
        await runConflist("DEL", net, ns);
        expect(existsSync(join(net.ipamDataDir, net.bridge, ip))).toBe(false);
      } finally {
        await exec("ip", ["netns", "del", ns]);
      }
      await net.remove();
      await expect(exec("ip", ["link", "show", net.bridge])).rejects.toThrow();
      expect(existsSync(net.conflist)).toBe(false);
    });
  });
});

/** The runtime's side of CNI for one conflist: each plugin in order (ADD) or reverse (DEL). */
async function runConflist(command: "ADD" | "DEL", net: CriCniNetwork, netns: string): Promise<unknown> {
  const conf = JSON.parse(await readFile(net.conflist, "utf8")) as { cniVersion: string; name: string; plugins: Array<{ type: string }> };
  const plugins = command === "ADD" ? conf.plugins : [...conf.plugins].reverse();
  let result: unknown;
  for (const plugin of plugins) {
    const stdin = JSON.stringify({ cniVersion: conf.cniVersion, name: conf.name, ...plugin, ...(result ? { prevResult: result } : {}) });
    const env = {
      PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: `berth-test-${process.pid}`,
      CNI_NETNS: `/var/run/netns/${netns}`,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/usr/lib/cni",
    };
    const out = await runWithStdin(`/usr/lib/cni/${plugin.type}`, stdin, env);
    if (command === "ADD") result = JSON.parse(out);
  }
  return result;
}

async function runWithStdin(file: string, stdin: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}: ${out}${err}`))));
    child.stdin.end(stdin);
  });
}
