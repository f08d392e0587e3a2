import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { MetaDb } from "../src/db.js";
import { afterThisTest, tempDir } from "./helpers.js";

it("a child process inherits none of the metadata environment's lmdb descriptors", async () => {
  const dir = await tempDir();
  const db = MetaDb.open(join(dir, "meta.lmdb"));
  afterThisTest(() => db.close());
  // What this process holds, then what a child started now holds (a shim is such a child).
  const { stdout: own } = await promisify(execFile)("ls", ["-l", `/proc/${process.pid}/fd`]);
  expect(own, "the environment's files should be open in this process").toContain(dir);
  const { stdout: child } = await promisify(execFile)("sh", ["-c", "ls -l /proc/$$/fd"]);
  expect(child).not.toContain(dir);
});
