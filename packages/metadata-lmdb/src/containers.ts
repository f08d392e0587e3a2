import {
  alreadyExists,
  invalidArgument,
  lookupLabel,
  notFound,
  parseFilters,
  validateIdentifier,
  type Container,
  type ContainerStore,
  type FieldLookup,
  type TypedValue,
} from "@berth/core";
import type { MetaDb } from "./db.js";
import { containerKey, containersPrefix } from "./keys.js";
import { fromPairs, ownValue, toPairs, toValuePairs, withKey } from "./maps.js";
import { ensureNamespace } from "./namespaces.js";
import { copyTypedValue, type ContainerRecord } from "./records.js";
import { namespaceOf, validateLabels } from "./validate.js";

type ContainerInput = Omit<Container, "createdAt" | "updatedAt">;

/** containerd's checks. The image name is not checked: a container need not come from an image. */
function validateContainer(c: ContainerInput): void {
  validateIdentifier(c.id);
  for (const key of Object.keys(c.extensions ?? {})) {
    if (key === "") throw invalidArgument("container.extensions keys must not be empty");
  }
  validateLabels(c.labels, "container.labels");
  if (!c.runtime?.name) throw invalidArgument("container.runtime.name must be set");
  if (!c.spec) throw invalidArgument("container.spec must be set");
  if (c.snapshotKey && !c.snapshotter) {
    throw invalidArgument("container.snapshotter must be set if container.snapshotKey is set");
  }
}

function toRecord(c: ContainerInput, createdAt: Date, updatedAt: Date): ContainerRecord {
  return {
    labels: toPairs(c.labels),
    image: c.image ?? "",
    runtime: { name: c.runtime.name, ...(c.runtime.options ? { options: copyTypedValue(c.runtime.options) } : {}) },
    ...(c.spec ? { spec: copyTypedValue(c.spec) } : {}),
    snapshotter: c.snapshotter ?? "",
    snapshotKey: c.snapshotKey ?? "",
    extensions: toValuePairs(c.extensions).map(([k, v]) => [k, copyTypedValue(v)]),
    sandbox: c.sandbox ?? "",
    createdAt,
    updatedAt,
  };
}

function toContainer(id: string, r: ContainerRecord): Container {
  return {
    id,
    labels: fromPairs(r.labels),
    image: r.image,
    runtime: { name: r.runtime.name, ...(r.runtime.options ? { options: copyTypedValue(r.runtime.options) } : {}) },
    ...(r.spec ? { spec: copyTypedValue(r.spec) } : {}),
    snapshotter: r.snapshotter,
    snapshotKey: r.snapshotKey,
    extensions: fromPairs(r.extensions.map(([k, v]) => [k, copyTypedValue(v)])),
    sandbox: r.sandbox,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

const present = (s: string) => (s === "" ? undefined : s);

/** Filter fields: id, image, runtime.name, snapshotter, labels.<k>. */
const containerFields =
  (c: Container): FieldLookup =>
  (path) => {
    switch (path[0]) {
      case "id":
        return present(c.id);
      case "image":
        return present(c.image);
      case "runtime":
        return path[1] === "name" && path.length === 2 ? present(c.runtime.name) : undefined;
      case "snapshotter":
        return present(c.snapshotter);
      case "labels":
        return lookupLabel(c.labels, path.slice(1));
      default:
        return undefined;
    }
  };

/** What an update with no fieldpaths replaces: everything mutable. */
const FULL_UPDATE = ["labels", "spec", "extensions", "image", "snapshotkey"] as const;

/**
 * containerd's container update mask. Mutable: labels(.<k>), extensions(.<k>), spec, image,
 * snapshotkey. The runtime, snapshotter and sandbox are fixed at creation: naming them is
 * InvalidArgument, and a full update (no fieldpaths) that changes the runtime name or the
 * snapshotter is refused rather than silently ignored.
 */
function applyContainerMask(current: Container, incoming: ContainerInput, fieldpaths: readonly string[]): ContainerInput {
  let paths: readonly string[] = fieldpaths;
  if (paths.length === 0) {
    paths = FULL_UPDATE;
    if ((incoming.snapshotter ?? "") !== current.snapshotter) {
      throw invalidArgument("container.snapshotter field is immutable");
    }
    if ((incoming.runtime?.name ?? "") !== current.runtime.name) {
      throw invalidArgument("container.runtime.name field is immutable");
    }
  }
  const next: { -readonly [K in keyof Container]: Container[K] } = { ...current };
  for (const path of paths) {
    if (path.startsWith("labels.")) {
      const key = path.slice("labels.".length);
      next.labels = withKey(next.labels, key, ownValue(incoming.labels, key));
      continue;
    }
    if (path.startsWith("extensions.")) {
      const key = path.slice("extensions.".length);
      next.extensions = withKey<TypedValue>(next.extensions, key, ownValue(incoming.extensions, key));
      continue;
    }
    switch (path) {
      case "labels":
        next.labels = incoming.labels ?? {};
        break;
      case "spec":
        next.spec = incoming.spec;
        break;
      case "extensions":
        next.extensions = incoming.extensions ?? {};
        break;
      case "image":
        next.image = incoming.image ?? "";
        break;
      case "snapshotkey":
        next.snapshotKey = incoming.snapshotKey ?? "";
        break;
      default:
        throw invalidArgument(`cannot update ${JSON.stringify(path)} field on container ${JSON.stringify(current.id)}`);
    }
  }
  return next;
}

export function createContainerStore(db: MetaDb): ContainerStore {
  return {
    async get(ctx, id) {
      const ns = namespaceOf(ctx);
      const record = db.get<ContainerRecord>(containerKey(ns, id));
      if (!record) throw notFound(`container ${JSON.stringify(id)} in namespace ${JSON.stringify(ns)} not found`);
      return toContainer(id, record);
    },

    async list(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      return db
        .list<ContainerRecord>(containersPrefix(ns))
        .map(({ key, value }) => toContainer(String(key[3]), value))
        .filter((c) => filter.match(containerFields(c)));
    },

    async create(ctx, container) {
      const ns = namespaceOf(ctx);
      validateContainer(container);
      const now = new Date();
      const record = toRecord(container, now, now);
      await db.commit((tx) => {
        ensureNamespace(tx, ns);
        if (tx.has(containerKey(ns, container.id))) {
          throw alreadyExists(`container ${JSON.stringify(container.id)} already exists`);
        }
        tx.put(containerKey(ns, container.id), record);
      });
      return toContainer(container.id, record);
    },

    async update(ctx, container, fieldpaths) {
      const ns = namespaceOf(ctx);
      if (!container.id) throw invalidArgument("must specify a container id");
      return db.commit((tx) => {
        const stored = tx.get<ContainerRecord>(containerKey(ns, container.id));
        if (!stored) throw notFound(`container ${JSON.stringify(container.id)} not found`);
        const updated = applyContainerMask(toContainer(container.id, stored), container, fieldpaths);
        validateContainer(updated);
        const record = toRecord(updated, stored.createdAt, new Date());
        tx.put(containerKey(ns, container.id), record);
        return toContainer(container.id, record);
      });
    },

    async delete(ctx, id) {
      const ns = namespaceOf(ctx);
      await db.commit((tx) => {
        if (!tx.has(containerKey(ns, id))) throw notFound(`container ${JSON.stringify(id)} not found`);
        tx.remove(containerKey(ns, id));
        tx.markDirty();
      });
    },
  };
}
