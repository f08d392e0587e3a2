// Property: over random graphs of namespaces, images, containers, leases (expiring, flat),
// content with reference labels, snapshot chains and ingests, a collection removes exactly
// what is unreachable, from metadata and from disk. Reachability is computed here, from the
// test's own model of what it created, independently of the collector.
import { describe, expect, it } from "vitest";
import type { OpContext } from "@berth/core";
import type { LmdbMetadataStore } from "../src/index.js";
import { SNAPSHOTTER, expectSnapshotDirsMatch, gcWorld, type GcWorld } from "./gc-world.js";
import { collect, sha256, writeBlob } from "./helpers.js";

const HOUR = 3_600_000;
const INGEST_TTL = 24 * HOUR;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([123, 125]) };

/** mulberry32: a small deterministic PRNG, so a failing seed fails the same way again. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(items: readonly T[]): T | undefined {
      return items.length === 0 ? undefined : items[Math.floor(next() * items.length)];
    },
  };
}
type Rng = ReturnType<typeof prng>;

type Labels = Record<string, string>;
interface Resource {
  readonly type: string;
  readonly id: string;
}

/** What the test created in one namespace, as it believes it is stored. */
interface NsModel {
  readonly blobs: Map<string, Labels>;
  readonly images: Map<string, { target: string; labels: Labels }>;
  readonly containers: Map<string, { snapshotKey: string; labels: Labels }>;
  readonly leases: Map<string, { labels: Labels; resources: Resource[] }>;
  readonly snapshots: Map<string, { parent: string; labels: Labels; committed: boolean }>;
  readonly ingests: Map<string, { leased: boolean; shared: string | undefined }>;
}

const emptyNs = (): NsModel => ({
  blobs: new Map(),
  images: new Map(),
  containers: new Map(),
  leases: new Map(),
  snapshots: new Map(),
  ingests: new Map(),
});

// ---- reachability, from the model ----------------------------------------------------------

type Kind = "content" | "image" | "snapshot" | "ingest";
interface Ref {
  readonly kind: Kind;
  readonly key: string;
  readonly snapshotter?: string;
}

/** The references a label set makes, by containerd's documented rules. */
function refsOf(labels: Labels): Ref[] {
  const out: Ref[] = [];
  const named = (k: string, base: string) => k === base || k.startsWith(`${base}.`) || k.startsWith(`${base}/`);
  for (const [k, v] of Object.entries(labels)) {
    if (named(k, "containerd.io/gc.ref.content")) out.push({ kind: "content", key: v });
    else if (named(k, "containerd.io/gc.ref.image")) out.push({ kind: "image", key: v });
    else if (k.startsWith("containerd.io/gc.ref.snapshot.")) {
      const snapshotter = k.slice("containerd.io/gc.ref.snapshot.".length).split("/")[0]!;
      if (snapshotter) out.push({ kind: "snapshot", key: v, snapshotter });
    }
  }
  return out;
}

const expired = (labels: Labels, now: number) => labels["containerd.io/gc.expire"] !== undefined && Date.parse(labels["containerd.io/gc.expire"]) < now;
const selfRooted = (labels: Labels, now: number) =>
  labels["containerd.io/gc.root"] !== undefined ||
  (labels["containerd.io/gc.expire"] !== undefined && Date.parse(labels["containerd.io/gc.expire"]) >= now);

/** Per namespace, "kind|key" of every reachable object that exists. */
function reachable(model: ReadonlyMap<string, NsModel>, now: number, ingestsExpired: boolean): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [ns, m] of model) {
    const live = new Set<string>();
    const visited = new Set<string>();
    const stack: { ref: Ref; flat: boolean }[] = [];
    const push = (ref: Ref, flat = false) => stack.push({ ref, flat });

    for (const c of m.containers.values()) {
      if (c.snapshotKey) push({ kind: "snapshot", key: c.snapshotKey, snapshotter: SNAPSHOTTER });
      for (const r of refsOf(c.labels)) push(r);
    }
    for (const l of m.leases.values()) {
      if (expired(l.labels, now)) continue;
      const flat = l.labels["containerd.io/gc.flat"] !== undefined;
      for (const r of l.resources) {
        if (r.type === "content") push({ kind: "content", key: r.id }, flat);
        else if (r.type === "images") push({ kind: "image", key: r.id }, flat);
        else if (r.type === "ingests") push({ kind: "ingest", key: r.id });
        else push({ kind: "snapshot", key: r.id, snapshotter: r.type.split("/")[1]! }, flat);
      }
    }
    for (const [name, img] of m.images) if (!expired(img.labels, now)) push({ kind: "image", key: name });
    for (const [digest, labels] of m.blobs) if (selfRooted(labels, now)) push({ kind: "content", key: digest });
    for (const [key, s] of m.snapshots) if (selfRooted(s.labels, now)) push({ kind: "snapshot", key, snapshotter: SNAPSHOTTER });
    for (const [ref, ing] of m.ingests) if (!ing.leased && !ingestsExpired) push({ kind: "ingest", key: ref });

    while (stack.length > 0) {
      const { ref, flat } = stack.pop()!;
      if (ref.kind === "snapshot" && ref.snapshotter !== SNAPSHOTTER) continue;
      const id = `${ref.kind}|${ref.key}`;
      const visit = `${flat}|${id}`;
      if (visited.has(visit)) continue;
      visited.add(visit);
      if (ref.kind === "content") {
        const labels = m.blobs.get(ref.key);
        if (!labels) continue;
        live.add(id);
        if (!flat) for (const r of refsOf(labels)) push(r);
      } else if (ref.kind === "image") {
        const img = m.images.get(ref.key);
        if (!img) continue;
        live.add(id);
        push({ kind: "content", key: img.target }, flat);
        if (!flat) for (const r of refsOf(img.labels)) push(r);
      } else if (ref.kind === "snapshot") {
        const s = m.snapshots.get(ref.key);
        if (!s) continue;
        live.add(id);
        if (s.parent) push({ kind: "snapshot", key: s.parent, snapshotter: SNAPSHOTTER }, flat);
        if (!flat) for (const r of refsOf(s.labels)) push(r);
      } else {
        const ing = m.ingests.get(ref.key);
        if (!ing) continue;
        live.add(id);
      }
    }
    out.set(ns, live);
  }
  return out;
}

// ---- random world -------------------------------------------------------------------------

interface Built {
  readonly model: Map<string, NsModel>;
  readonly now: number;
  readonly ingestsExpired: boolean;
}

async function build(world: GcWorld, rng: Rng, seed: number): Promise<Built> {
  const { store } = world;
  const realNow = Date.now();
  // Half the seeds collect a day later, when every unleased ingest has expired.
  const ingestsExpired = rng.chance(0.5);
  const now = ingestsExpired ? realNow + INGEST_TTL + HOUR : realNow;
  const model = new Map<string, NsModel>();
  const namespaces = ["ns-a", "ns-b", "ns-c"].slice(0, 2 + rng.int(2));
  // Texts are drawn from a small pool so that namespaces share blobs.
  const text = (i: number) => `seed ${seed} blob ${i}`;
  const pool = Array.from({ length: 14 }, (_, i) => sha256(text(i)));
  const expiry = () => (rng.chance(0.5) ? new Date(now - HOUR) : new Date(now + HOUR)).toISOString();

  function randomLabels(m: NsModel, snapshotKeys: readonly string[]): Labels {
    const labels: Labels = {};
    if (rng.chance(0.1)) labels["containerd.io/gc.root"] = "yes";
    if (rng.chance(0.1)) labels["containerd.io/gc.expire"] = expiry();
    const n = rng.int(3);
    for (let i = 0; i < n; i++) {
      const form = rng.int(3);
      const key = form === 0 ? "containerd.io/gc.ref.content" : form === 1 ? `containerd.io/gc.ref.content.l.${i}` : `containerd.io/gc.ref.content/${i}`;
      labels[key] = rng.pick(pool)!;
    }
    if (rng.chance(0.3)) labels[`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}${rng.chance(0.5) ? "/x" : ""}`] = rng.pick(snapshotKeys) ?? "none";
    if (rng.chance(0.1)) labels["containerd.io/gc.ref.snapshot.other"] = "elsewhere";
    if (rng.chance(0.2)) labels["containerd.io/gc.ref.contentious"] = rng.pick(pool)!; // not a reference
    if (rng.chance(0.1) && m.images.size > 0) labels["containerd.io/gc.ref.image"] = rng.pick([...m.images.keys()])!;
    return labels;
  }

  for (const ns of namespaces) {
    const m = emptyNs();
    model.set(ns, m);
    const ctx: OpContext = { namespace: ns };
    const leaseIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `lease-${i}`;
      const labels: Labels = {};
      if (rng.chance(0.3)) labels["containerd.io/gc.expire"] = expiry();
      if (rng.chance(0.25)) labels["containerd.io/gc.flat"] = "true";
      await store.leases.create(ctx, { id, labels });
      m.leases.set(id, { labels, resources: [] });
      leaseIds.push(id);
    }
    const maybeLease = (): string | undefined => (rng.chance(0.3) ? rng.pick(leaseIds) : undefined);
    const hold = (lease: string | undefined, r: Resource) => {
      if (lease) m.leases.get(lease)!.resources.push(r);
    };

    // Snapshot chains: committed ones may be parents; some stay active, some are views.
    const committed: string[] = [];
    const snapshotKeys: string[] = [];
    for (let i = 0; i < 7; i++) {
      const parent = rng.chance(0.7) ? (rng.pick(committed) ?? "") : "";
      const lease = maybeLease();
      const lctx = { namespace: ns, lease };
      const labels = randomLabels(m, snapshotKeys);
      const kind = rng.int(10);
      if (kind < 7) {
        const active = `active-${i}`;
        await store.snapshotters.get(SNAPSHOTTER)!.prepare(lctx, active, parent);
        await store.snapshotters.get(SNAPSHOTTER)!.commit(lctx, `snap-${i}`, active, { labels });
        m.snapshots.set(`snap-${i}`, { parent, labels, committed: true });
        hold(lease, { type: `snapshots/${SNAPSHOTTER}`, id: `snap-${i}` });
        committed.push(`snap-${i}`);
        snapshotKeys.push(`snap-${i}`);
      } else {
        const key = kind < 9 ? `rw-${i}` : `view-${i}`;
        const sn = store.snapshotters.get(SNAPSHOTTER)!;
        await (kind < 9 ? sn.prepare(lctx, key, parent, { labels }) : sn.view(lctx, key, parent, { labels }));
        m.snapshots.set(key, { parent, labels, committed: false });
        hold(lease, { type: `snapshots/${SNAPSHOTTER}`, id: key });
        snapshotKeys.push(key);
      }
    }

    // Blobs, some under a lease, with labels referencing other blobs (present or not) and snapshots.
    for (let i = 0; i < 9; i++) {
      const idx = rng.int(pool.length);
      const digest = pool[idx]!;
      if (m.blobs.has(digest)) continue;
      const lease = maybeLease();
      const labels = randomLabels(m, snapshotKeys);
      await writeBlob(store.content, { namespace: ns, lease }, `blob-${i}`, text(idx), labels);
      m.blobs.set(digest, labels);
      hold(lease, { type: "content", id: digest });
    }

    for (let i = 0; i < 3; i++) {
      const name = `registry.test/img-${i}:latest`;
      const labels: Labels = rng.chance(0.3) ? { "containerd.io/gc.expire": expiry() } : {};
      Object.assign(labels, rng.chance(0.3) ? { [`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`]: rng.pick(snapshotKeys) ?? "x" } : {});
      const target = rng.pick(pool)!;
      await store.images.create(ctx, { name, labels, target: { mediaType: "application/vnd.oci.image.index.v1+json", digest: target, size: 10 } });
      m.images.set(name, { target, labels });
    }

    for (let i = 0; i < 2; i++) {
      const snapshotKey = rng.chance(0.7) ? (rng.pick(snapshotKeys) ?? "") : "";
      const labels: Labels = rng.chance(0.3) ? { "containerd.io/gc.ref.content.spec": rng.pick(pool)! } : {};
      await store.containers.create(ctx, {
        id: `ctr-${i}`,
        labels,
        image: "",
        runtime: { name: "io.containerd.runc.v2" },
        spec,
        snapshotter: snapshotKey ? SNAPSHOTTER : "",
        snapshotKey,
        extensions: {},
        sandbox: "",
      });
      m.containers.set(`ctr-${i}`, { snapshotKey, labels });
    }

    // Extra lease resources: images, content and snapshots added by ID (present or not).
    for (const id of leaseIds) {
      if (rng.chance(0.4)) {
        const r = { type: "images", id: rng.pick([...m.images.keys()])! };
        await store.leases.addResource(ctx, id, r);
        hold(id, r);
      }
      if (rng.chance(0.4)) {
        const r = { type: "content", id: rng.pick(pool)! };
        await store.leases.addResource(ctx, id, r);
        hold(id, r);
      }
    }

    // Ingests: partial uploads, some leased; some shared from a blob another namespace committed.
    for (let i = 0; i < 3; i++) {
      const lease = maybeLease();
      const ref = `ingest-${i}`;
      const other = [...model.entries()].filter(([n]) => n !== ns).flatMap(([, om]) => [...om.blobs.keys()]);
      const shared = rng.chance(0.3) ? rng.pick(other.filter((d) => !m.blobs.has(d))) : undefined;
      const w = await store.content.writer({ namespace: ns, lease }, shared ? { ref, expected: shared } : { ref, total: 64 });
      if (!shared) await w.write(Buffer.from(`partial ${seed} ${ns} ${i}`));
      await w.close();
      m.ingests.set(ref, { leased: lease !== undefined, shared });
      hold(lease, { type: "ingests", id: ref });
    }
  }
  return { model, now, ingestsExpired };
}

// ---- what is stored -----------------------------------------------------------------------

async function stored(store: LmdbMetadataStore, ns: string): Promise<Set<string>> {
  const ctx = { namespace: ns };
  const out = new Set<string>();
  for (const i of await collect(store.content.walk(ctx, []))) out.add(`content|${i.digest}`);
  for (const i of await store.images.list(ctx, [])) out.add(`image|${i.name}`);
  for (const s of await collect(store.snapshotters.get(SNAPSHOTTER)!.walk(ctx, []))) out.add(`snapshot|${s.name}`);
  for (const s of await store.content.listStatuses(ctx, [])) out.add(`ingest|${s.ref}`);
  return out;
}

describe("garbage collection over random graphs", () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: exactly the unreachable objects go, from metadata and from disk`, async () => {
      const rng = prng(seed);
      // The clock is fixed before anything is built, so expiries compare the same way in the model.
      let clock = Date.now();
      const world = await gcWorld({ clock: () => clock });
      const built = await build(world, rng, seed);
      clock = built.now;
      const { store } = world;
      const expected = reachable(built.model, built.now, built.ingestsExpired);

      const before = new Map<string, Set<string>>();
      for (const ns of built.model.keys()) before.set(ns, await stored(store, ns));
      const stats = await store.collector.collect();

      let removed = 0;
      for (const [ns, m] of built.model) {
        const after = await stored(store, ns);
        expect([...after].sort(), `seed ${seed}, namespace ${ns}`).toEqual([...expected.get(ns)!].sort());
        removed += before.get(ns)!.size - after.size;
        const leases = (await store.leases.list({ namespace: ns }, [])).map((l) => l.id).sort();
        expect(leases).toEqual([...m.leases].filter(([, l]) => !expired(l.labels, built.now)).map(([id]) => id).sort());
        expect((await store.containers.list({ namespace: ns }, [])).length).toBe(m.containers.size);
      }
      const r = stats.records;
      expect(r.content + r.images + r.snapshots + r.ingests).toBe(removed);

      // Disk: a blob stays while some namespace owns it or a remaining shared ingest is to own it.
      const owned = new Set<string>();
      for (const [ns, m] of built.model) {
        for (const id of expected.get(ns)!) {
          const [kind, key] = [id.slice(0, id.indexOf("|")), id.slice(id.indexOf("|") + 1)];
          if (kind === "content") owned.add(key);
          if (kind === "ingest" && m.ingests.get(key)!.shared) owned.add(m.ingests.get(key)!.shared!);
        }
      }
      expect(await world.blobsOnDisk()).toEqual([...owned].sort());
      const liveSnapshots = [...expected].flatMap(([ns, ids]) => [...ids].filter((id) => id.startsWith("snapshot|")).map((id) => `${ns}/${id.slice(9)}`));
      const onDisk = (await world.backendSnapshots()).map((name) => name.replace(/^([^/]+)\/\d+\//, "$1/"));
      expect(onDisk.sort()).toEqual(liveSnapshots.sort());
      await expectSnapshotDirsMatch(world);
      const liveUploads = [...expected].flatMap(([ns, ids]) =>
        [...ids].filter((id) => id.startsWith("ingest|") && !built.model.get(ns)!.ingests.get(id.slice(7))!.shared),
      );
      expect(await world.content.listStatuses({ namespace: "" }, [])).toHaveLength(liveUploads.length);

      // A second collection finds nothing more.
      const again = await store.collector.collect();
      expect(again.records).toEqual({ images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 });
      expect(again.backend).toEqual({ blobs: 0, ingests: 0, snapshots: 0 });
    }, 60_000);
  }
});
