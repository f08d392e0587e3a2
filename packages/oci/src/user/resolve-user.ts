import { invalidArgument, notFound } from "@berth/core";
import type { RootfsUserDb } from "./rootfs-user-db.js";
import { MAX_ID, parseId } from "./user-db.js";

/** Who the container's process runs as. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, the primary gid first (as containerd puts it there). */
  readonly additionalGids: number[];
}

type IdOrName = { readonly id: number } | { readonly name: string };

/** "1000" → an id (range-checked), "app" → a name. */
function idOrName(text: string, what: "uid" | "gid", whole: string): IdOrName {
  if (text === "") throw invalidArgument(`invalid user ${JSON.stringify(whole)}: empty ${what === "uid" ? "user" : "group"}`);
  if (!/^[+-]?\d+$/.test(text)) return { name: text };
  const id = parseId(text);
  if (id === undefined) throw invalidArgument(`invalid user ${JSON.stringify(whole)}: ${what} out of range 0-${MAX_ID}`);
  return { id };
}

async function userByName(db: RootfsUserDb, name: string) {
  const passwd = await db.passwd();
  if (!passwd) throw notFound(`cannot resolve user ${JSON.stringify(name)}: the image has no /etc/passwd`);
  const entry = passwd.find((e) => e.name === name);
  if (!entry) throw notFound(`user ${JSON.stringify(name)} not found in the image's /etc/passwd`);
  return entry;
}

async function groupByName(db: RootfsUserDb, name: string) {
  const groups = await db.group();
  if (!groups) throw notFound(`cannot resolve group ${JSON.stringify(name)}: the image has no /etc/group`);
  const entry = groups.find((g) => g.name === name);
  if (!entry) throw notFound(`group ${JSON.stringify(name)} not found in the image's /etc/group`);
  return entry;
}

/**
 * The groups of /etc/group that list `user` (a name, or a uid looked up in /etc/passwd) as a
 * member, other than the user's own same-named group, after `primaryGid`. A user the image does
 * not know, or an image without the files, gets just `primaryGid`.
 */
export async function supplementaryGids(db: RootfsUserDb, user: string | number, primaryGid: number): Promise<number[]> {
  const name = typeof user === "string" ? user : (await db.passwd())?.find((e) => e.uid === user)?.name;
  const gids =
    name === undefined
      ? []
      : ((await db.group()) ?? []).filter((g) => g.name !== name && g.members.includes(name)).map((g) => g.gid);
  return gids.includes(primaryGid) ? gids : [primaryGid, ...gids];
}

/**
 * Resolves an image or CLI user string the way containerd does: "uid", "name", "uid:gid",
 * "name:group", "uid:group" or "name:gid", names from the rootfs's /etc/passwd and /etc/group.
 * A bare uid the image does not list runs with gid 0; an unknown name is NotFound. Supplementary
 * groups come from /etc/group. A fully numeric "uid:gid" needs no files; without a rootfs it gets
 * no supplementary groups.
 */
export async function resolveUser(db: RootfsUserDb, user: string, opts: { rootfsKnown: boolean }): Promise<ResolvedUser> {
  const parts = user.split(":");
  if (parts.length > 2) throw invalidArgument(`invalid user ${JSON.stringify(user)}: want user[:group]`);
  const who = idOrName(parts[0] as string, "uid", user);
  const group = parts.length === 2 ? idOrName(parts[1] as string, "gid", user) : undefined;

  if (group === undefined) {
    if ("name" in who) {
      const entry = await userByName(db, who.name);
      return { uid: entry.uid, gid: entry.gid, additionalGids: await supplementaryGids(db, entry.name, entry.gid) };
    }
    const entry = (await db.passwd())?.find((e) => e.uid === who.id);
    const gid = entry?.gid ?? 0;
    return { uid: who.id, gid, additionalGids: await supplementaryGids(db, who.id, gid) };
  }

  const uid = "id" in who ? who.id : (await userByName(db, who.name)).uid;
  const gid = "id" in group ? group.id : (await groupByName(db, group.name)).gid;
  if ("id" in who && "id" in group && !opts.rootfsKnown) return { uid, gid, additionalGids: [gid] };
  return { uid, gid, additionalGids: await supplementaryGids(db, "name" in who ? who.name : uid, gid) };
}
