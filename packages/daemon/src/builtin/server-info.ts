import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The source revision, when the build recorded one. */
export const BERTH_REVISION = process.env["BERTH_REVISION"] ?? "";

/** The daemon's UUID: made once, kept in the introspection plugin's root, as containerd does. */
export async function loadServerUuid(dir: string): Promise<string> {
  const file = join(dir, "uuid");
  const existing = (await readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  const uuid = randomUUID();
  await writeFile(file, uuid);
  return uuid;
}
