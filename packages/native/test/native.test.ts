import { execFile, spawn } from "node:child_process";
import { closeSync, constants as fsc, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, statfsSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import * as native from "../src/index.js";
import { mountPointsUnder, requireRoot, requireTool, tempDir, thrown } from "./helpers.js";

const TMPFS_MAGIC = 0x01021994;
const OVERLAYFS_MAGIC = 0x794c7630;

beforeAll(requireRoot);

describe("device nodes and fifos", () => {
  it("makes a 0:0 character device, overlayfs' whiteout", async () => {
    const p = join(await tempDir(), "whiteout");
    native.mknod(p, fsc.S_IFCHR | 0o600, 0, 0);
    const st = lstatSync(p);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0);
    expect(st.mode & 0o7777).toBe(0o600);
  });

  it("makes a block device with its major and minor", async () => {
    const p = join(await tempDir(), "loop0");
    native.mknod(p, fsc.S_IFBLK | 0o660, 7, 3);
    const st = lstatSync(p);
    expect(st.isBlockDevice()).toBe(true);
    expect(st.rdev).toBe(7 * 256 + 3); // makedev for small numbers
  });

  it("makes a fifo, also through mknod", async () => {
    const dir = await tempDir();
    native.mkfifo(join(dir, "a"), 0o644);
    native.mknod(join(dir, "b"), fsc.S_IFIFO | 0o600, 0, 0);
    expect(lstatSync(join(dir, "a")).isFIFO()).toBe(true);
    expect(lstatSync(join(dir, "b")).isFIFO()).toBe(true);
  });

  it("takes Buffer paths that are not UTF-8", async () => {
    const dir = await tempDir();
    const name = Buffer.from([0x66, 0xff, 0xfe, 0x6f]); // "f\xff\xfeo"
    native.mkfifo(Buffer.concat([Buffer.from(`${dir}/`), name]), 0o600);
    const names = readdirSync(dir, { encoding: "buffer" });
    expect(names).toHaveLength(1);
    expect(names[0]!.equals(name)).toBe(true);
  });

  it("refuses paths with NUL bytes and non-path arguments", () => {
    expect(thrown(() => native.mkfifo(Buffer.from("/tmp/a\0b"), 0o600)).code).toBe("ERR_INVALID_ARG_VALUE");
    expect(thrown(() => native.mkfifo(42 as unknown as string, 0o600)).code).toBe("ERR_INVALID_ARG_TYPE");
  });
});

describe("extended attributes", () => {
  it("round-trips user.* and trusted.* attributes", async () => {
    const p = join(await tempDir(), "f");
    writeFileSync(p, "x");
    const big = Buffer.alloc(3000, 0xab);
    native.lsetxattr(p, "user.berth.test", Buffer.from("hello"));
    native.lsetxattr(p, "trusted.overlay.opaque", Buffer.from("y"));
    native.lsetxattr(p, "user.big", big);
    native.lsetxattr(p, "user.empty", Buffer.alloc(0));
    expect(native.lgetxattr(p, "user.berth.test")?.toString()).toBe("hello");
    expect(native.lgetxattr(p, "trusted.overlay.opaque")?.toString()).toBe("y");
    expect(native.lgetxattr(p, "user.big")?.equals(big)).toBe(true);
    expect(native.lgetxattr(p, "user.empty")?.length).toBe(0);
    expect(native.llistxattr(p).sort()).toEqual(expect.arrayContaining(["trusted.overlay.opaque", "user.berth.test", "user.big", "user.empty"]));

    native.lremovexattr(p, "user.berth.test");
    expect(native.lgetxattr(p, "user.berth.test")).toBeUndefined();
    expect(native.llistxattr(p)).not.toContain("user.berth.test");
  });

  it("acts on a symlink itself, not its target", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, "target"), "x");
    symlinkSync("target", join(dir, "link"));
    native.lsetxattr(join(dir, "link"), "trusted.berth", Buffer.from("on-link"));
    expect(native.lgetxattr(join(dir, "link"), "trusted.berth")?.toString()).toBe("on-link");
    expect(native.lgetxattr(join(dir, "target"), "trusted.berth")).toBeUndefined();
  });

  it("reports a missing attribute as undefined and a missing file as ENOENT", async () => {
    const dir = await tempDir();
    expect(native.lgetxattr(dir, "user.none")).toBeUndefined();
    const err = thrown(() => native.lgetxattr(join(dir, "missing"), "user.x"));
    expect(err.code).toBe("ENOENT");
    expect(err.syscall).toBe("lgetxattr");
    expect(thrown(() => native.lremovexattr(dir, "user.none")).code).toBe("ENODATA");
  });
});

describe("lutimesNs", () => {
  it("sets times to the nanosecond", async () => {
    const p = join(await tempDir(), "f");
    writeFileSync(p, "x");
    native.lutimesNs(p, 1_000_000_000, 123_456_789, 1_700_000_000, 987_654_321);
    const st = statSync(p, { bigint: true });
    expect(st.atimeNs).toBe(1_000_000_000_123_456_789n);
    expect(st.mtimeNs).toBe(1_700_000_000_987_654_321n);
  });

  it("sets a symlink's own times and leaves its target alone", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, "target"), "x");
    symlinkSync("target", join(dir, "link"));
    const before = statSync(join(dir, "target"), { bigint: true }).mtimeNs;
    native.lutimesNs(join(dir, "link"), 5, 1, 6, 999_999_999);
    expect(lstatSync(join(dir, "link"), { bigint: true }).mtimeNs).toBe(6_999_999_999n);
    expect(statSync(join(dir, "target"), { bigint: true }).mtimeNs).toBe(before);
  });

  it("refuses nanoseconds out of range", async () => {
    const p = await tempDir();
    expect(thrown(() => native.lutimesNs(p, 0, 1_000_000_000, 0, 0)).code).toBe("ERR_OUT_OF_RANGE");
  });
});

describe("mount and umount2", () => {
  it("mounts a tmpfs with flags and data, and unmounts it", async () => {
    const dir = await tempDir();
    native.mount("tmpfs", dir, "tmpfs", native.MS_NOSUID | native.MS_NODEV, "size=1m,mode=0711");
    expect(statfsSync(dir).type).toBe(TMPFS_MAGIC);
    expect(statSync(dir).mode & 0o777).toBe(0o711);
    writeFileSync(join(dir, "inside"), "x");
    native.umount2(dir, 0);
    expect(readdirSync(dir)).toEqual([]);
    expect(await mountPointsUnder(dir)).toEqual([]);
  });

  it("bind-mounts a directory", async () => {
    const dir = await tempDir();
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "dst"));
    writeFileSync(join(dir, "src", "file"), "from source");
    native.mount(join(dir, "src"), join(dir, "dst"), "", native.MS_BIND, "");
    expect(readFileSync(join(dir, "dst", "file"), "utf8")).toBe("from source");
    native.umount2(join(dir, "dst"), native.UMOUNT_NOFOLLOW);
    expect(readdirSync(join(dir, "dst"))).toEqual([]);
  });

  it("resolves relative paths against cwd without moving the process's cwd", async () => {
    const dir = await tempDir();
    for (const d of ["l1", "l2", "src", "dst", "merged"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "src", "file"), "bound");
    writeFileSync(join(dir, "l1", "one"), "1");
    writeFileSync(join(dir, "l2", "two"), "2");
    const cwd = process.cwd();

    native.mount("src", join(dir, "dst"), "", native.MS_BIND, "", dir);
    expect(readFileSync(join(dir, "dst", "file"), "utf8")).toBe("bound");
    native.mount("overlay", join(dir, "merged"), "overlay", 0, "lowerdir=l1:l2", Buffer.from(dir));
    expect(statfsSync(join(dir, "merged")).type).toBe(OVERLAYFS_MAGIC);
    expect(readdirSync(join(dir, "merged")).sort()).toEqual(["one", "two"]);
    expect(process.cwd()).toBe(cwd);

    native.umount2(join(dir, "merged"), 0);
    native.umount2(join(dir, "dst"), 0);
  });

  it("exports the kernel's flag values", () => {
    expect([native.MS_RDONLY, native.MS_BIND, native.MS_REC, native.MS_PRIVATE, native.MNT_DETACH]).toEqual([1, 4096, 16384, 1 << 18, 2]);
    expect(native.PAGE_SIZE).toBeGreaterThanOrEqual(4096);
  });
});

describe("errors", () => {
  it("look like Node's fs errors", async () => {
    const dir = await tempDir();
    const p = join(dir, "missing", "x");
    const err = thrown(() => native.mknod(p, fsc.S_IFCHR | 0o600, 0, 0));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe("ENOENT");
    expect(err.errno).toBe(-2);
    expect(err.syscall).toBe("mknod");
    expect(err.path).toBe(p);
    expect(err.message).toBe(`ENOENT: no such file or directory, mknod '${p}'`);
  });

  it("name the failing syscall and path for mount and umount2", async () => {
    const dir = await tempDir();
    const notMounted = thrown(() => native.umount2(dir, 0));
    expect([notMounted.code, notMounted.syscall, notMounted.path]).toEqual(["EINVAL", "umount2", dir]);
    const badCwd = thrown(() => native.mount("x", dir, "", native.MS_BIND, "", join(dir, "nope")));
    expect([badCwd.code, badCwd.syscall, badCwd.path]).toEqual(["ENOENT", "chdir", join(dir, "nope")]);
    const badType = thrown(() => native.mount("none", dir, "no-such-fs", 0, ""));
    expect([badType.code, badType.syscall, badType.path]).toEqual(["ENODEV", "mount", dir]);
    expect(thrown(() => native.mkfifo(Buffer.from(join(dir, "a", "b")), 0o600)).path).toBe(join(dir, "a", "b"));
  });
});

describe("processes", () => {
  it("getpgid reads the process group", () => {
    const stat = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /s, "").split(" ");
    expect(native.getpgid()).toBe(Number(stat[2]));
    expect(native.getpgid(process.pid)).toBe(Number(stat[2]));
    expect(thrown(() => native.getpgid(0x3fffffff)).code).toBe("ESRCH");
  });

  // waitAny reaps any child, so it runs in a node process of its own (see the fixture).
  it("waitAny reaps orphans once this process is a subreaper, and direct children", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "reap-children.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { encoding: "utf8" });
    const r = JSON.parse(stdout);
    expect(r.beforeSubreaper.orphanParent).not.toBe(r.selfPid);
    expect(r.beforeSubreaper.waitAny).toBeNull();
    expect(r.afterSubreaper.orphanParent).toBe(r.selfPid);
    expect(r.afterSubreaper.whileRunning).toBeNull();
    expect(r.killed).toMatchObject({ exited: false, signal: 15, exitCode: 143 });
    expect(r.exited).toMatchObject({ exited: true, exitCode: 7 });
    expect(r.exited.signal).toBeUndefined();
    expect(r.direct.reaped).toMatchObject({ pid: r.direct.pid, exited: true, exitCode: 5 });
  });
});

describe("what a shim needs: spawning, pipes, console sockets, terminals, eventfds", () => {
  // spawnProcess leaves reaping to the caller, so it runs in a node process of its own.
  it("spawnProcess maps fds, sets env, cwd and a new session, and its children are reaped with waitAny", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "spawn-children.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { encoding: "utf8" });
    const r = JSON.parse(stdout);
    // Node ignores SIGPIPE; the child must not inherit that (SigIgn all zero).
    expect(r.output).toBe("out sh bar\nerr\n/tmp\nSigIgn:\t0000000000000000\n");
    expect(r.exit).toMatchObject({ exited: true, exitCode: 3 });
    expect(r.session).toBe(r.leader);
    expect(r.sessionExit.exitCode).toBe(0);
    expect(r.parentExit.exitCode).toBe(0);
    // sh, the orphaned sleep, the session leader, the first sh: four exits, all reaped.
    expect(r.reapedCount).toBe(4);
    expect(r.missing).toEqual({ code: "ENOENT", syscall: "spawn", path: "/no/such/program" });
  });

  it("waitForExit reaps a spawnProcess child through its pidfd, beside child_process children", async () => {
    const devNull = openSync("/dev/null", "r+");
    try {
      const spawn = (script: string) => native.spawnProcess("/bin/sh", ["sh", "-c", script], { fds: [devNull, devNull, devNull] });
      const quick = spawn("exit 4");
      const slow = spawn("sleep 30");
      // libuv reaps only its own children: both kinds finish, each with its own status.
      const [quickExit, viaNode] = await Promise.all([native.waitForExit(quick), promisify(execFile)("/bin/sh", ["-c", "echo node"])]);
      expect(quickExit).toMatchObject({ pid: quick, exited: true, exitCode: 4, signal: undefined });
      expect(viaNode.stdout).toBe("node\n");
      const slowExit = native.waitForExit(slow);
      process.kill(slow, "SIGTERM");
      expect(await slowExit).toMatchObject({ pid: slow, exited: false, signal: 15, exitCode: 143 });
      // Reaped: the pid no longer names a child (kill would find a zombie otherwise).
      expect(() => process.kill(slow, 0)).toThrow(/ESRCH/);
    } finally {
      closeSync(devNull);
    }
  });

  it("runProgram feeds stdin, collects stdout and stderr within a budget, and reports the exit", async () => {
    const sh = (script: string, options?: Parameters<typeof native.runProgram>[2]) => native.runProgram("/bin/sh", ["sh", "-c", script], options);
    const ran = await sh('read line; echo "got $line $X"; echo oops >&2; exit 2', { input: "hello\n", env: { X: "x", PATH: "/usr/bin:/bin" } });
    expect(ran).toMatchObject({ exit: { exited: true, exitCode: 2 }, aborted: false });
    expect(ran.stdout.toString()).toBe("got hello x\n");
    expect(ran.stderr.toString()).toBe("oops\n");
    // Output past the budget is dropped, not buffered.
    expect((await sh("head -c 100000 /dev/zero", { maxOutput: 1000 })).stdout.length).toBeLessThanOrEqual(1000);
    // A daemon left holding stdout: the exit counts, and the drain is bounded.
    const started = performance.now();
    const leaky = await sh("sleep 5 & echo left", { drainAfterExitMs: 100 });
    expect(leaky.stdout.toString()).toBe("left\n");
    expect(performance.now() - started).toBeLessThan(4000);
    const controller = new AbortController();
    const pending = sh("sleep 30", { signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ aborted: true, exit: { exited: false, signal: 9 } });
    await expect(native.runProgram("/no/such/program", ["x"])).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("pipe gives two close-on-exec ends of one pipe", () => {
    const [read, write] = native.pipe();
    try {
      expect(writeSync(write, "abc")).toBe(3);
      const buffer = Buffer.alloc(8);
      expect(readSync(read, buffer).valueOf()).toBe(3);
      expect(buffer.subarray(0, 3).toString()).toBe("abc");
      // O_CLOEXEC is 02000000 in fdinfo's octal flags.
      for (const fd of [read, write]) expect(Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1]!, 8) & 0o2000000).toBe(0o2000000);
    } finally {
      closeSync(read);
      closeSync(write);
    }
  });

  it("setCloseOnExecForPaths sets close-on-exec on exactly the descriptors open on the given files", async () => {
    const dir = await tempDir();
    const cloexec = (fd: number) => Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1]!, 8) & 0o2000000;
    writeFileSync(join(dir, "a"), "");
    writeFileSync(join(dir, "b"), "");
    // Node's own opens already carry O_CLOEXEC; packages/metadata-lmdb and snapshot-storage test
    // the real case (lmdb's descriptors) through a child's /proc/<pid>/fd. Here: which fds it picks.
    const a = openSync(join(dir, "a"), "r");
    const b = openSync(join(dir, "b"), "r");
    try {
      expect(native.setCloseOnExecForPaths([join(dir, "a")])).toBe(1);
      expect(cloexec(a)).toBe(0o2000000);
      expect(() => native.setCloseOnExec(1_000_000)).toThrow(/EBADF/);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it("unixListen and receiveFd take a descriptor sent over SCM_RIGHTS, as runc sends a console", async () => {
    const python = await requireTool("python3");
    const dir = await tempDir();
    const socket = join(dir, "console.sock");
    const listenFd = native.unixListen(socket);
    try {
      expect(native.receiveFd(listenFd)).toBeUndefined();
      const payload = join(dir, "payload");
      writeFileSync(payload, "sent through the socket");
      // Send an open file, the way runc sends a terminal's master.
      await promisify(execFile)(python, [
        "-c",
        `import socket,os\ns=socket.socket(socket.AF_UNIX)\ns.connect(${JSON.stringify(socket)})\nfd=os.open(${JSON.stringify(payload)},os.O_RDONLY)\nsocket.send_fds(s,[b"console"],[fd])\ns.close()`,
      ]);
      const received = native.receiveFd(listenFd);
      expect(received).toBeGreaterThan(2);
      const buffer = Buffer.alloc(64);
      expect(buffer.subarray(0, readSync(received!, buffer)).toString()).toBe("sent through the socket");
      closeSync(received!);
      expect(thrown(() => native.unixListen(socket)).code).toBe("EADDRINUSE");
    } finally {
      closeSync(listenFd);
    }
  });

  it("setWindowSize sizes a terminal through its master; on anything else it fails like an fs call", async () => {
    const python = await requireTool("python3");
    const dir = await tempDir();
    const socket = join(dir, "console.sock");
    const listenFd = native.unixListen(socket);
    // python opens a pseudo-terminal, sends us the master (as runc does), waits for a line on
    // stdin, then prints the size its slave sees.
    const script = `import os,pty,socket,fcntl,termios,struct,sys
m,s=pty.openpty()
c=socket.socket(socket.AF_UNIX); c.connect(${JSON.stringify(socket)}); socket.send_fds(c,[b"pty"],[m]); c.close()
print("sent", flush=True)
sys.stdin.readline()
print(*struct.unpack("HHHH", fcntl.ioctl(s, termios.TIOCGWINSZ, bytes(8)))[:2], flush=True)`;
    const child = spawn(python, ["-c", script], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const done = new Promise((resolve) => child.once("close", resolve));
    try {
      while (!out.includes("sent")) await new Promise((resolve) => setTimeout(resolve, 10));
      const master = native.receiveFd(listenFd)!;
      native.setWindowSize(master, 33, 111);
      closeSync(master);
      child.stdin.end("go\n");
      await done;
      expect(out.split("\n")[1]).toBe("33 111");
    } finally {
      closeSync(listenFd);
    }
    const file = join(dir, "f");
    writeFileSync(file, "");
    const fd = openSync(file, "r");
    try {
      expect(thrown(() => native.setWindowSize(fd, 1, 1)).code).toBe("ENOTTY");
    } finally {
      closeSync(fd);
    }
  });

  it("watchReadable calls back on the main thread when an eventfd is signalled, until closed", async () => {
    const efd = native.eventfd();
    const counter = Buffer.alloc(8);
    const seen: bigint[] = [];
    let wake: () => void = () => {};
    const watch = native.watchReadable(efd, (status) => {
      expect(status).toBe(0);
      readSync(efd, counter);
      seen.push(counter.readBigUInt64LE());
      wake();
    });
    try {
      const signal = async (n: bigint) => {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        counter.writeBigUInt64LE(n);
        writeSync(efd, counter);
        await woken;
      };
      await signal(3n);
      await signal(4n);
      expect(seen).toEqual([3n, 4n]);
      // Non-blocking: nothing pending reads as EAGAIN.
      expect(thrown(() => readSync(efd, counter)).code).toBe("EAGAIN");
    } finally {
      watch.close();
      watch.close();
      closeSync(efd);
    }
  });
});
