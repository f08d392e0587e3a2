/** One line of /etc/passwd. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
}

/** One line of /etc/group. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  /** The user names listed as members (the group's fourth field). */
  readonly members: readonly string[];
}

/** The largest id runc accepts (it keeps ids in a signed 32-bit int). */
export const MAX_ID = 2 ** 31 - 1;

/** A decimal id in [0, MAX_ID], or undefined. */
export function parseId(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ID ? id : undefined;
}

function records(text: string): string[][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

/**
 * The entries of a passwd file. A line whose uid or gid is not a number is skipped: read as 0, as
 * some parsers do, it would turn a typo into root.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const [name = "", , uidText = "", gidText = "", gecos = "", home = "", shell = ""] of records(text)) {
    const uid = parseId(uidText);
    const gid = parseId(gidText);
    if (name === "" || uid === undefined || gid === undefined) continue;
    out.push({ name, uid, gid, gecos, home, shell });
  }
  return out;
}

/** The entries of a group file; a line whose gid is not a number is skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const [name = "", , gidText = "", list = ""] of records(text)) {
    const gid = parseId(gidText);
    if (name === "" || gid === undefined) continue;
    out.push({ name, gid, members: list === "" ? [] : list.split(",").map((m) => m.trim()) });
  }
  return out;
}
