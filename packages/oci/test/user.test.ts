import { execFile } from "node:child_process";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import {
  generateSpec,
  generateSpecFor,
  readTextInRoot,
  withAdditionalGids,
  withAppendAdditionalGroups,
  withRootfsPath,
  withUidGid,
  withUmask,
  withUser,
  type Spec,
} from "../src/index.js";
import { ctx, GROUP, PASSWD, tempDir, userRootfs } from "./helpers.js";

async function userIn(rootfs: string | undefined, user: string): Promise<Spec["process"]> {
  return (await generateSpecFor(ctx(rootfs), withUser(user))).process;
}

async function errorClass(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return `${classOf(err)}: ${(err as Error).message}`;
  }
  return "no error";
}

describe("withUser against a rootfs's /etc/passwd and /etc/group", () => {
  it("resolves a name to its uid, gid and supplementary groups (primary gid first)", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    expect((await userIn(rootfs, "app"))?.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] });
    expect((await userIn(rootfs, "svc"))?.user).toEqual({ uid: 1001, gid: 1500, additionalGids: [1500, 29, 44] });
    expect((await userIn(rootfs, "root"))?.user).toEqual({ uid: 0, gid: 0, additionalGids: [0, 10] });
  });

  it("resolves a uid through /etc/passwd, and a uid it does not list to gid 0", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    expect((await userIn(rootfs, "1000"))?.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] });
    expect((await userIn(rootfs, "4242"))?.user).toEqual({ uid: 4242, gid: 0, additionalGids: [0] });
  });

  it("takes numeric ids as they are when the image has no user database", async () => {
    const rootfs = await userRootfs({});
    expect((await userIn(rootfs, "1234"))?.user).toEqual({ uid: 1234, gid: 0, additionalGids: [0] });
    expect((await userIn(rootfs, "1234:5678"))?.user).toEqual({ uid: 1234, gid: 5678, additionalGids: [5678] });
    // A fully numeric uid:gid needs no rootfs at all.
    expect((await userIn(undefined, "7:8"))?.user).toEqual({ uid: 7, gid: 8, additionalGids: [8] });
  });

  it("resolves user:group, uid:group and name:gid", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    // audio is among app's groups already: the list stays as /etc/group orders it.
    expect((await userIn(rootfs, "app:audio"))?.user).toEqual({ uid: 1000, gid: 29, additionalGids: [10, 29] });
    expect((await userIn(rootfs, "1001:video"))?.user).toEqual({ uid: 1001, gid: 44, additionalGids: [29, 44] });
    expect((await userIn(rootfs, "app:4000"))?.user).toEqual({ uid: 1000, gid: 4000, additionalGids: [4000, 10, 29] });
  });

  it("fails NotFound for a name the image does not know, or without the file to look it up", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    expect(await errorClass(userIn(rootfs, "nobody"))).toMatch(/^NotFound: user "nobody" not found/);
    expect(await errorClass(userIn(rootfs, "app:nogroup"))).toMatch(/^NotFound: group "nogroup" not found/);
    expect(await errorClass(userIn(await userRootfs({}), "app"))).toMatch(/^NotFound: .*no \/etc\/passwd/);
    // A line with a non-numeric uid is skipped, not read as root.
    expect(await errorClass(userIn(rootfs, "broken"))).toMatch(/^NotFound/);
  });

  it("rejects malformed users and ids out of runc's range", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    expect(await errorClass(userIn(rootfs, "a:b:c"))).toMatch(/^InvalidArgument/);
    expect(await errorClass(userIn(rootfs, ":1"))).toMatch(/^InvalidArgument/);
    expect(await errorClass(userIn(rootfs, "2147483648"))).toMatch(/^InvalidArgument: .*out of range/);
    expect(await errorClass(userIn(rootfs, "1:-1"))).toMatch(/^InvalidArgument: .*out of range/);
  });

  it("needs a rootfs for a lookup: FailedPrecondition without one", async () => {
    expect(await errorClass(userIn(undefined, "app"))).toMatch(/^FailedPrecondition: .*root filesystem/);
    expect(await errorClass(userIn(undefined, "1000"))).toMatch(/^FailedPrecondition/);
  });

  it("falls back to an absolute root.path, and prefers an explicit rootfs", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const other = await userRootfs({ passwd: "app:x:2000:2000::/:/bin/sh\n", group: "" });
    const viaRoot = await generateSpec("berth-test", "c1", withRootfsPath(rootfs), withUser("app"));
    expect(viaRoot.process?.user.uid).toBe(1000);
    const explicit = await generateSpecFor(ctx(rootfs), withUser("app", { rootfs: other }));
    expect(explicit.process?.user).toEqual({ uid: 2000, gid: 2000, additionalGids: [2000] });
  });
});

describe("reading the user database safely inside the rootfs", () => {
  it("resolves an absolute symlink /etc/passwd -> /etc/passwd inside the rootfs, not to the host's", async () => {
    const rootfs = await tempDir();
    await mkdir(join(rootfs, "etc"));
    await mkdir(join(rootfs, "real"));
    await writeFile(join(rootfs, "real/passwd"), "app:x:3000:3000::/:/bin/sh\n");
    // The image's /etc/passwd points at "/etc/passwd" itself: followed naively from the host that is
    // the host's file, which does list root and daemon.
    await symlink("/etc/passwd", join(rootfs, "etc/passwd"));
    expect(await errorClass(userIn(rootfs, "daemon"))).toMatch(/^InvalidArgument: .*too many levels of symbolic links/);
    // And /etc/passwd -> /real/passwd is the image's /real/passwd.
    await rm(join(rootfs, "etc/passwd"));
    await symlink("/real/passwd", join(rootfs, "etc/passwd"));
    expect((await userIn(rootfs, "app"))?.user.uid).toBe(3000);
    expect(await errorClass(userIn(rootfs, "daemon"))).toMatch(/^NotFound/);
  });

  it("keeps .. and symlinked directories inside the rootfs", async () => {
    const rootfs = await tempDir();
    await mkdir(join(rootfs, "data"));
    await writeFile(join(rootfs, "data/passwd"), "app:x:3100:3100::/:/bin/sh\n");
    await writeFile(join(rootfs, "data/group"), "extra:x:77:app\n");
    // /etc -> ../../../../../data climbs past the root: it stops there, as the kernel does at "/".
    await symlink("../../../../../data", join(rootfs, "etc"));
    expect((await userIn(rootfs, "app"))?.user).toEqual({ uid: 3100, gid: 3100, additionalGids: [3100, 77] });
  });

  it("never follows a link out of the rootfs to a file outside it, relative or absolute", async () => {
    const outside = await tempDir("berth-oci-host-");
    await writeFile(join(outside, "passwd"), "hostuser:x:4444:4444::/:/bin/sh\n");
    const rootfs = await userRootfs({});
    const hostFile = join(outside, "passwd");
    await symlink(relative(join(rootfs, "etc"), hostFile), join(rootfs, "etc/passwd"));
    expect(await readFile(join(rootfs, "etc/passwd"), "utf8")).toContain("hostuser"); // what a naive reader gets
    expect(await errorClass(userIn(rootfs, "hostuser"))).toMatch(/^NotFound: .*no \/etc\/passwd/);
    await rm(join(rootfs, "etc/passwd"));
    await symlink(hostFile, join(rootfs, "etc/passwd"));
    expect(await readFile(join(rootfs, "etc/passwd"), "utf8")).toContain("hostuser");
    expect(await errorClass(userIn(rootfs, "hostuser"))).toMatch(/^NotFound: .*no \/etc\/passwd/);
    // A numeric user in such an image falls back to gid 0, as for an image without the file.
    expect((await userIn(rootfs, "4444"))?.user).toEqual({ uid: 4444, gid: 0, additionalGids: [0] });
  });

  it("refuses a FIFO, a directory and an oversized file instead of hanging or reading it all", async () => {
    const rootfs = await userRootfs({});
    await promisify(execFile)("mkfifo", [join(rootfs, "etc/passwd")]);
    expect(await errorClass(userIn(rootfs, "app"))).toMatch(/^InvalidArgument: .*not a regular file/);
    await rm(join(rootfs, "etc/passwd"));
    await mkdir(join(rootfs, "etc/passwd"));
    expect(await errorClass(userIn(rootfs, "app"))).toMatch(/^InvalidArgument/);
    await rm(join(rootfs, "etc/passwd"), { recursive: true });
    await writeFile(join(rootfs, "etc/passwd"), "x".repeat(2048));
    expect(await errorClass(readTextInRoot(rootfs, "/etc/passwd", { maxBytes: 1024 }))).toMatch(/^InvalidArgument: .*larger than 1024/);
    expect(await readTextInRoot(rootfs, "/etc/passwd", { maxBytes: 2048 })).toHaveLength(2048);
  });

  it("stops when aborted", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD });
    const controller = new AbortController();
    controller.abort();
    await expect(generateSpecFor({ ...ctx(rootfs), signal: controller.signal }, withUser("app"))).rejects.toThrow(/abort/i);
  });
});

describe("the other user options", () => {
  it("withUidGid sets ids without lookups; withUmask keeps them", async () => {
    const spec = await generateSpec("berth-test", "c1", withUidGid(5, 6), withUmask(0o027));
    expect(spec.process?.user).toEqual({ uid: 5, gid: 6, additionalGids: [6], umask: 0o027 });
    expect(() => withUidGid(-1, 0)).toThrow(/out of range/);
  });

  it("withAdditionalGids replaces supplementary groups by user name or uid", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const byName = await generateSpecFor(ctx(rootfs), withUidGid(1001, 1500), withAdditionalGids("svc"));
    expect(byName.process?.user.additionalGids).toEqual([1500, 29, 44]);
    const byUid = await generateSpecFor(ctx(rootfs), withUidGid(1000, 1000), withAdditionalGids("1000"));
    expect(byUid.process?.user.additionalGids).toEqual([1000, 10, 29]);
    const unknown = await generateSpecFor(ctx(rootfs), withUidGid(9, 9), withAdditionalGids("9"));
    expect(unknown.process?.user.additionalGids).toEqual([9]);
  });

  it("withAppendAdditionalGroups adds gids and group names", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const spec = await generateSpecFor(ctx(rootfs), withUser("app"), withAppendAdditionalGroups(["video", "1234"]));
    expect(spec.process?.user.additionalGids).toEqual([1000, 10, 29, 44, 1234]);
    expect(await errorClass(generateSpecFor(ctx(rootfs), withAppendAdditionalGroups(["nope"])))).toMatch(/^NotFound/);
  });
});
