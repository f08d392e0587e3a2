/**
 * The key layout of a snapshot store's lmdb environment (arrays in lmdb's ordered-binary
 * encoding, so every key extending a prefix is one contiguous range):
 *
 *   ["schema"]                       number: layout version
 *   ["seq"]                          number: the last id allocated
 *   ["snapshot", key]                SnapshotRecord
 *   ["child", parentId, childId]     string: the child's key (a back link: "has children?" is one seek)
 */
export type KeyPart = string | number;
export type Key = readonly KeyPart[];

export const SCHEMA_KEY: Key = ["schema"];
export const SEQUENCE_KEY: Key = ["seq"];
export const snapshotsPrefix: Key = ["snapshot"];
export const snapshotKey = (key: string): Key => ["snapshot", key];
export const childrenPrefix = (parentId: number): Key => ["child", parentId];
export const childKey = (parentId: number, childId: number): Key => ["child", parentId, childId];

export function hasPrefix(key: Key, prefix: Key): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
