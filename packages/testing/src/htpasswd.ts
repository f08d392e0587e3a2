import { writeFile } from "node:fs/promises";
import { exec, requireTool } from "./tools.js";

/** Writes an htpasswd file (bcrypt, as docker-registry wants) for `users` (name → password). */
export async function writeHtpasswd(path: string, users: Readonly<Record<string, string>>): Promise<void> {
  await requireTool("htpasswd", "apache2-utils");
  await writeFile(path, "");
  for (const [name, password] of Object.entries(users)) await exec("htpasswd", ["-Bb", path, name, password]);
}
