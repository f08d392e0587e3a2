/**
 * The key layout of the metadata environment. Keys are arrays in lmdb's default (ordered-binary)
 * key encoding, which sorts arrays element by element and puts every key right after the keys it
 * extends: all images of one namespace are one contiguous range starting at
 * ["ns", ns, "images"], so listing or emptiness checks never touch other namespaces or types.
 *
 *   ["schema", "version"]                                  number: the layout version (migrations.ts)
 *   ["seq", "ingest"]                                      number: last backend ingest sequence
 *   ["namespace", ns]                                      NamespaceRecord
 *   ["ns", ns, "images", name]                             ImageRecord
 *   ["ns", ns, "containers", id]                           ContainerRecord
 *   ["ns", ns, "content", "blob", digest]                  BlobRecord (ownership + labels)
 *   ["ns", ns, "content", "ingests", ref]                  IngestRecord
 *   ["ns", ns, "leases", id]                               LeaseRecord
 *   ["ns", ns, "lease-resources", id, type, resourceId]    true
 *   ["seq", "snapshot"]                                    number: last backend snapshot sequence
 *   ["ns", ns, "snapshots", snapshotter, key]              SnapshotRecord
 *   ["ns", ns, "snapshot-children", snapshotter, parent, child]   true (parent → child index)
 *   ["ns", ns, "sandboxes", id]                            reserved for the sandbox store
 *
 * Namespace records live apart from ["ns", …] so listing namespaces does not walk their objects.
 */
export type KeyPart = string | number;
export type Key = readonly KeyPart[];

export const SCHEMA_VERSION_KEY: Key = ["schema", "version"];
export const INGEST_SEQUENCE_KEY: Key = ["seq", "ingest"];
export const SNAPSHOT_SEQUENCE_KEY: Key = ["seq", "snapshot"];

export const namespacesPrefix: Key = ["namespace"];
export const namespaceKey = (ns: string): Key => ["namespace", ns];

/** Everything a namespace holds. */
export const namespaceObjectsPrefix = (ns: string): Key => ["ns", ns];

export const imagesPrefix = (ns: string): Key => ["ns", ns, "images"];
export const imageKey = (ns: string, name: string): Key => ["ns", ns, "images", name];

export const containersPrefix = (ns: string): Key => ["ns", ns, "containers"];
export const containerKey = (ns: string, id: string): Key => ["ns", ns, "containers", id];

export const blobsPrefix = (ns: string): Key => ["ns", ns, "content", "blob"];
export const blobKey = (ns: string, digest: string): Key => ["ns", ns, "content", "blob", digest];

export const ingestsPrefix = (ns: string): Key => ["ns", ns, "content", "ingests"];
export const ingestKey = (ns: string, ref: string): Key => ["ns", ns, "content", "ingests", ref];

export const leasesPrefix = (ns: string): Key => ["ns", ns, "leases"];
export const leaseKey = (ns: string, id: string): Key => ["ns", ns, "leases", id];

export const leaseResourcesPrefix = (ns: string, lease: string): Key => ["ns", ns, "lease-resources", lease];
export const leaseResourceKey = (ns: string, lease: string, type: string, id: string): Key => [
  "ns",
  ns,
  "lease-resources",
  lease,
  type,
  id,
];

export const snapshotsPrefix = (ns: string): Key => ["ns", ns, "snapshots"];
export const snapshotterPrefix = (ns: string, snapshotter: string): Key => ["ns", ns, "snapshots", snapshotter];
export const snapshotKey = (ns: string, snapshotter: string, key: string): Key => ["ns", ns, "snapshots", snapshotter, key];

/** The children of `parent`: one key per child, so "has children" is one range probe. */
export const snapshotChildrenPrefix = (ns: string, snapshotter: string, parent: string): Key => [
  "ns",
  ns,
  "snapshot-children",
  snapshotter,
  parent,
];
export const snapshotChildKey = (ns: string, snapshotter: string, parent: string, child: string): Key => [
  "ns",
  ns,
  "snapshot-children",
  snapshotter,
  parent,
  child,
];

export const sandboxesPrefix = (ns: string): Key => ["ns", ns, "sandboxes"];

/** True when `key` begins with every element of `prefix`. */
export function hasPrefix(key: Key, prefix: Key): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
