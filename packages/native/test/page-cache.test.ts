import { closeSync, openSync, readFileSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dropWrittenPages } from "../src/index.js";
import { residentBytes, tempDir } from "./helpers.js";

const TMPFS_MAGIC = 0x01021994;

describe("dropWrittenPages", () => {
  it("writes a range out and drops it from the page cache, leaving the rest and the data intact", async () => {
    const dir = await tempDir();
    // tmpfs keeps its pages whatever we advise: the test needs a disk-backed filesystem.
    expect(statfsSync(dir).type, `${dir} is on tmpfs; set TMPDIR to a disk-backed directory`).not.toBe(TMPFS_MAGIC);
    const file = join(dir, "blob");
    const data = Buffer.alloc(8 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    const fd = openSync(file, "w");
    try {
      writeSync(fd, data);
      expect(await residentBytes(file)).toBe(8 << 20);
      await dropWrittenPages(fd, 0, 6 << 20);
      expect(await residentBytes(file)).toBe(2 << 20);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it("rejects with the errno of a bad descriptor", async () => {
    await expect(dropWrittenPages(1 << 20, 0, 4096)).rejects.toMatchObject({ code: "EBADF", syscall: "sync_file_range" });
  });
});
