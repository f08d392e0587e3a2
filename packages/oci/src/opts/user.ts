import { posix } from "node:path";
import { invalidArgument, notFound } from "@berth/core";
import type { Spec } from "../runtime-spec.js";
import { processOf } from "../spec-parts.js";
import type { SpecContext, SpecOpt } from "../spec-opt.js";
import { resolveUser, supplementaryGids } from "../user/resolve-user.js";
import { rootfsUserDb, type RootfsUserDb } from "../user/rootfs-user-db.js";
import { MAX_ID, parseId } from "../user/user-db.js";

/** Where user lookups read the image's files. */
export interface UserLookupOptions {
  /** A host directory holding the container's rootfs; defaults to SpecContext.rootfs, then an absolute root.path. */
  readonly rootfs?: string | undefined;
}

/** The rootfs to read /etc/passwd and /etc/group from, if any is known. */
export function lookupRootfs(spec: Spec, ctx: SpecContext, opts: UserLookupOptions = {}): string | undefined {
  if (opts.rootfs !== undefined) return opts.rootfs;
  if (ctx.rootfs !== undefined) return ctx.rootfs;
  const path = spec.root?.path;
  return path !== undefined && posix.isAbsolute(path) ? path : undefined;
}

function userDb(spec: Spec, ctx: SpecContext, why: string, opts: UserLookupOptions): { db: RootfsUserDb; known: boolean } {
  const rootfs = lookupRootfs(spec, ctx, opts);
  return { db: rootfsUserDb(rootfs, why, ctx.signal), known: rootfs !== undefined };
}

function requireId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) throw invalidArgument(`${what} ${id} is out of range 0-${MAX_ID}`);
}

/**
 * Runs the process as `user` ("uid", "name", "uid:gid", "name:group", …) resolved against the
 * image's /etc/passwd and /etc/group, with the user's supplementary groups. See resolveUser.
 */
export function withUser(user: string, opts: UserLookupOptions = {}): SpecOpt {
  return async (spec, ctx) => {
    const { db, known } = userDb(spec, ctx, `user ${JSON.stringify(user)}`, opts);
    const resolved = await resolveUser(db, user, { rootfsKnown: known });
    const process = processOf(spec);
    process.user = { ...process.user, uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
  };
}

/** Exactly uid:gid, no lookups and no supplementary groups beyond gid. */
export function withUidGid(uid: number, gid: number): SpecOpt {
  requireId(uid, "uid");
  requireId(gid, "gid");
  return (spec) => {
    const process = processOf(spec);
    process.user = { ...process.user, uid, gid, additionalGids: [gid] };
  };
}

/**
 * Replaces the supplementary groups with those /etc/group gives `user` (a name or uid), the
 * primary gid first.
 */
export function withAdditionalGids(user: string, opts: UserLookupOptions = {}): SpecOpt {
  return async (spec, ctx) => {
    const { db } = userDb(spec, ctx, `the groups of ${JSON.stringify(user)}`, opts);
    const process = processOf(spec);
    const uid = /^\d+$/.test(user) ? parseId(user) : undefined;
    if (/^\d+$/.test(user) && uid === undefined) throw invalidArgument(`uid ${user} is out of range 0-${MAX_ID}`);
    process.user = { ...process.user, additionalGids: await supplementaryGids(db, uid ?? user, process.user.gid) };
  };
}

/** Adds groups (gids, or names from the image's /etc/group) to the supplementary groups. */
export function withAppendAdditionalGroups(groups: readonly string[], opts: UserLookupOptions = {}): SpecOpt {
  return async (spec, ctx) => {
    const process = processOf(spec);
    const gids: number[] = [];
    for (const group of groups) {
      const gid = parseId(group);
      if (gid !== undefined) {
        gids.push(gid);
        continue;
      }
      const { db } = userDb(spec, ctx, `group ${JSON.stringify(group)}`, opts);
      const entry = (await db.group())?.find((g) => g.name === group);
      if (!entry) throw notFound(`group ${JSON.stringify(group)} not found in the image's /etc/group`);
      gids.push(entry.gid);
    }
    const current = process.user.additionalGids ?? [];
    const withPrimary = current.includes(process.user.gid) ? current : [process.user.gid, ...current];
    process.user = { ...process.user, additionalGids: [...withPrimary, ...gids] };
  };
}

/** The process's umask (e.g. 0o022). */
export function withUmask(umask: number): SpecOpt {
  if (!Number.isInteger(umask) || umask < 0 || umask > 0o777) throw invalidArgument(`umask ${umask} is not in 0-0777`);
  return (spec) => {
    processOf(spec).user.umask = umask;
  };
}
