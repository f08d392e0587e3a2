import { unavailable } from "@berth/core";

/**
 * One writer per ref. Like containerd, the lock lives in memory (the daemon's root lock keeps
 * other processes out); it is keyed by root and ingest key so that every store object over
 * the same root in this process shares it.
 */

/** What abort() asks a lock's holder to do: let go of the ingest before it is removed. */
export interface LockOwner {
  abandon(reason: string): Promise<void>;
}

export class RefLock {
  readonly since = new Date();
  owner: LockOwner | undefined;

  constructor(
    readonly id: string,
    readonly ref: string,
  ) {}

  release(): void {
    if (held.get(this.id) === this) held.delete(this.id);
  }
}

const held = new Map<string, RefLock>();
const lockId = (root: string, key: string) => `${root}\0${key}`;

/** Takes the lock, or undefined while someone else holds it. */
export function lockIfFree(root: string, key: string, ref: string): RefLock | undefined {
  const id = lockId(root, key);
  if (held.has(id)) return undefined;
  const lock = new RefLock(id, ref);
  held.set(id, lock);
  return lock;
}

/** Takes the lock; Unavailable "ref <ref> locked for <duration> (since <time>)" while it is held. */
export function lockRef(root: string, key: string, ref: string): RefLock {
  const lock = lockIfFree(root, key, ref);
  if (lock) return lock;
  const holder = held.get(lockId(root, key))!;
  const forMs = Date.now() - holder.since.getTime();
  throw unavailable(`ref ${ref} locked for ${formatMs(forMs)} (since ${holder.since.toISOString()})`);
}

export function lockHolder(root: string, key: string): RefLock | undefined {
  return held.get(lockId(root, key));
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(3)}s`;
}
