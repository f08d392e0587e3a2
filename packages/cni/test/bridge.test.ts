import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createCniNetworking,
  createNetns,
  isPinnedNetns,
  kubernetesPodArgs,
  removeNetns,
  type CniNetworking,
  type Netns,
} from "../src/index.js";
import { CNI_BIN_DIR, requireRoot, requireTools, run, tempDir, writeConfig } from "./helpers.js";

// Debian's real plugins end to end: bridge + host-local + portmap + loopback, the chain the CRI
// fixtures use. A bridge name and a /24 no other test uses; leases in a temp dataDir.
const SUBNET_PREFIX = "10.213.57";
const BRIDGE = `bcni${randomBytes(3).toString("hex")}`;
const NETWORK = "berth-cni-test";

const namespaces: Netns[] = [];
const servers: ChildProcess[] = [];

async function newNetns(dir: string): Promise<Netns> {
  const ns = await createNetns(join(dir, "netns"));
  namespaces.push(ns);
  return ns;
}

async function freeHostPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "0.0.0.0", res));
  const { port } = server.address() as AddressInfo;
  await new Promise((res) => server.close(res));
  return port;
}

/** A TCP server inside a namespace that greets each connection; resolves once it listens. */
async function serveIn(ns: Netns, port: number, greeting: string): Promise<void> {
  const code = `require("node:net").createServer((s) => s.end(${JSON.stringify(greeting)})).listen(${port}, "0.0.0.0", () => console.log("ready"))`;
  const child = spawn("nsenter", [`--net=${ns.path}`, process.execPath, "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  servers.push(child);
  await new Promise<void>((res, rej) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && res());
    child.on("exit", (c) => rej(new Error(`server in ${ns.path} exited (${c})`)));
  });
}

/** Reads what a TCP server sends until it closes, connecting from this (the host's) namespace. */
function fetchFromHost(host: string, port: number): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, host);
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer from ${host}:${port}`)));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("end", () => res(Buffer.concat(chunks).toString()));
    socket.on("error", rej);
  });
}

/** The same, from inside a namespace. */
async function fetchFromNetns(ns: Netns, host: string, port: number): Promise<string> {
  const code = `const s = require("node:net").connect(${port}, ${JSON.stringify(host)}); s.pipe(process.stdout); s.on("error", (e) => { console.error(e.message); process.exit(1); })`;
  const { stdout } = await run("nsenter", [`--net=${ns.path}`, process.execPath, "-e", code], { timeout: 30_000 });
  return stdout;
}

async function leases(dataDir: string): Promise<string[]> {
  const names = await readdir(join(dataDir, NETWORK)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(`${SUBNET_PREFIX}.`));
}

async function bridgePorts(): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link", "show", "master", BRIDGE]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter((l) => l.trim() !== "");
}

async function natRulesFor(containerId: string): Promise<string[]> {
  const { stdout } = await run("iptables", ["-w", "-t", "nat", "-S"]);
  return stdout.split("\n").filter((l) => l.includes(containerId));
}

describe("bridge + host-local + portmap + loopback (Debian's plugins)", () => {
  let dir: string;
  let dataDir: string;
  let cacheDir: string;
  let cni: CniNetworking;

  beforeAll(async () => {
    requireRoot();
    await requireTools(["bridge", "host-local", "portmap", "loopback"], ["iptables", "nsenter", "unshare", "ip", "busybox"]);
  });

  // Each test gets a fresh config dir, lease dir and cache (tempDir cleans them up).
  async function setUpNetwork(): Promise<void> {
    dir = await tempDir();
    dataDir = join(dir, "ipam");
    cacheDir = join(dir, "cache");
    await writeConfig(join(dir, "net.d"), "10-test.conflist", {
      cniVersion: "1.0.0",
      name: NETWORK,
      plugins: [
        {
          type: "bridge",
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: `${SUBNET_PREFIX}.0/24` }]], routes: [{ dst: "0.0.0.0/0" }], dataDir },
        },
        { type: "portmap", capabilities: { portMappings: true } },
        { type: "loopback" },
      ],
    });
    cni = createCniNetworking({ confDir: join(dir, "net.d"), binDirs: [CNI_BIN_DIR], cacheDir });
    expect(await cni.load()).toEqual({ ready: true, networks: [NETWORK] });
  }

  afterEach(async () => {
    for (const s of servers.splice(0)) s.kill();
    for (const ns of namespaces.splice(0)) await removeNetns(ns.path);
  });

  afterAll(async () => {
    await run("ip", ["link", "del", BRIDGE]).catch(() => {});
  });

  it("two pods reach each other, a port mapping reaches a pod from the host, and teardown leaves nothing", async () => {
    await setUpNetwork();
    const [nsA, nsB] = [await newNetns(dir), await newNetns(dir)];
    const idA = `pod-a-${randomBytes(4).toString("hex")}`;
    const idB = `pod-b-${randomBytes(4).toString("hex")}`;
    const hostPort = await freeHostPort();

    const netA = await cni.setup({
      containerId: idA,
      netnsPath: nsA.path,
      args: kubernetesPodArgs({ namespace: "default", name: "a", infraContainerId: idA }),
      capabilities: { portMappings: [{ hostPort, containerPort: 8080, protocol: "tcp" }] },
    });
    const netB = await cni.setup({
      containerId: idB,
      netnsPath: nsB.path,
      args: kubernetesPodArgs({ namespace: "default", name: "b", infraContainerId: idB }),
    });

    const [ipA] = netA.podIps;
    const [ipB] = netB.podIps;
    expect(ipA).toMatch(new RegExp(`^${SUBNET_PREFIX.replaceAll(".", "\\.")}\\.\\d+$`));
    expect(ipB).toMatch(new RegExp(`^${SUBNET_PREFIX.replaceAll(".", "\\.")}\\.\\d+$`));
    expect(ipA).not.toBe(ipB);
    expect(netA.interfaces.eth0).toMatchObject({ sandbox: nsA.path, ips: [{ ip: ipA, prefixLength: 24, gateway: `${SUBNET_PREFIX}.1` }] });
    expect(Object.keys(netA.interfaces)).toContain(BRIDGE);
    expect((await leases(dataDir)).sort()).toEqual([ipA, ipB].sort());

    // Inside the namespace: eth0 with the address, lo up (the loopback plugin), a default route.
    const { stdout: addrs } = await run("nsenter", [`--net=${nsA.path}`, "ip", "-o", "-4", "addr", "show"]);
    expect(addrs).toMatch(new RegExp(`eth0\\s+inet ${ipA}/24`));
    expect(addrs).toMatch(/lo\s+inet 127\.0\.0\.1\/8/);
    const { stdout: routes } = await run("nsenter", [`--net=${nsA.path}`, "ip", "-4", "route", "show", "default"]);
    expect(routes).toContain(`via ${SUBNET_PREFIX}.1 dev eth0`);

    // Pod to pod over the bridge.
    const { stdout: ping } = await run("nsenter", [`--net=${nsB.path}`, "busybox", "ping", "-c", "1", "-w", "10", ipA ?? ""]);
    expect(ping).toContain("1 packets received");
    await serveIn(nsA, 8080, "hello from a\n");
    expect(await fetchFromNetns(nsB, ipA ?? "", 8080)).toBe("hello from a\n");

    // Host port → pod through portmap: via the host's own addresses, loopback included
    // (portmap sets route_localnet on the bridge and masquerades hairpinned localhost traffic).
    const hostAddress = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal && !a.address.startsWith(`${SUBNET_PREFIX}.`))?.address;
    expect(await fetchFromHost(`${SUBNET_PREFIX}.1`, hostPort)).toBe("hello from a\n");
    if (hostAddress) expect(await fetchFromHost(hostAddress, hostPort)).toBe("hello from a\n");
    expect(await fetchFromHost("127.0.0.1", hostPort)).toBe("hello from a\n");
    expect(await natRulesFor(idA)).not.toEqual([]);

    // Teardown: leases released, cache emptied, veths gone, port rules gone.
    await cni.teardown({ containerId: idA });
    await cni.teardown({ containerId: idB });
    expect(await leases(dataDir)).toEqual([]);
    expect(await readdir(join(cacheDir, "results"))).toEqual([]);
    expect(await natRulesFor(idA)).toEqual([]);
    for (const ns of [nsA, nsB]) await removeNetns(ns.path);
    expect(await isPinnedNetns(nsA.path)).toBe(false);
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(nsA.path);
    expect(await bridgePorts()).toEqual([]);
    await expect(fetchFromHost(`${SUBNET_PREFIX}.1`, hostPort)).rejects.toThrow();

    // DEL twice succeeds.
    await cni.teardown({ containerId: idA });
    await cni.teardown({ containerId: idB, netnsPath: nsB.path });
  });

  it("teardown after the namespace is already gone still releases the address", async () => {
    await setUpNetwork();
    const ns = await newNetns(dir);
    const id = `pod-c-${randomBytes(4).toString("hex")}`;
    const net = await cni.setup({ containerId: id, netnsPath: ns.path });
    expect(await leases(dataDir)).toEqual(net.podIps);

    await removeNetns(ns.path);
    // A restarted daemon knows the pod only from the cache.
    const restarted = createCniNetworking({ confDir: join(dir, "net.d"), binDirs: [CNI_BIN_DIR], cacheDir });
    expect((await restarted.cached(id))?.podIps).toEqual(net.podIps);
    await restarted.teardown({ containerId: id });
    expect(await leases(dataDir)).toEqual([]);
    expect(await restarted.cached(id)).toBeUndefined();
    // The veth died with the namespace.
    expect(await bridgePorts()).toEqual([]);
  });

  it("sets up and tears down pods concurrently, each with its own address", async () => {
    await setUpNetwork();
    // The bridge does not exist yet: the first ADDs race to create it.
    await run("ip", ["link", "del", BRIDGE]).catch(() => {});
    const pods = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => ({ id: `pod-p${i}-${randomBytes(3).toString("hex")}`, ns: await newNetns(dir) })),
    );
    const nets = await Promise.all(pods.map((p) => cni.setup({ containerId: p.id, netnsPath: p.ns.path })));
    const ips = nets.map((n) => n.podIps[0]);
    expect(new Set(ips).size).toBe(pods.length);
    expect((await leases(dataDir)).sort()).toEqual([...ips].sort());
    expect(await bridgePorts()).toHaveLength(pods.length);

    await Promise.all(pods.map((p) => cni.teardown({ containerId: p.id })));
    expect(await leases(dataDir)).toEqual([]);
    expect(await bridgePorts()).toEqual([]);
  });

  it("CHECK passes on a healthy attachment and fails once the interface is gone", async () => {
    await setUpNetwork();
    const ns = await newNetns(dir);
    const id = `pod-d-${randomBytes(4).toString("hex")}`;
    await cni.setup({ containerId: id, netnsPath: ns.path });
    await cni.check({ containerId: id, netnsPath: ns.path });

    await run("nsenter", [`--net=${ns.path}`, "ip", "link", "del", "eth0"]);
    const err = await cni.check({ containerId: id, netnsPath: ns.path }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/cni plugin "bridge" CHECK \(network "berth-cni-test", interface eth0\) failed/);
    await cni.teardown({ containerId: id });
    expect(await leases(dataDir)).toEqual([]);
  });
});
