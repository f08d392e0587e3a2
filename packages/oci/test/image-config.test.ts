import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { DEFAULT_UNIX_ENV, generateSpecFor, withEnv, withImageConfig, withUser } from "../src/index.js";
import { ctx, GROUP, PASSWD, userRootfs } from "./helpers.js";

describe("withImageConfig", () => {
  it("entrypoint + cmd, the image's env under the spec's, working dir and user", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const spec = await generateSpecFor(
      ctx(rootfs),
      withEnv(["MODE=prod", "EXTRA=1"]),
      withImageConfig({ User: "app", Env: ["PATH=/usr/bin", "MODE=dev"], Entrypoint: ["/entry"], Cmd: ["serve", "--port", "80"], WorkingDir: "/srv" }),
    );
    expect(spec.process?.args).toEqual(["/entry", "serve", "--port", "80"]);
    expect(spec.process?.env).toEqual(["PATH=/usr/bin", "MODE=prod", "EXTRA=1"]);
    expect(spec.process?.cwd).toBe("/srv");
    expect(spec.process?.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] });
  });

  it("args replace Cmd but keep the Entrypoint", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const spec = await generateSpecFor(ctx(rootfs), withImageConfig({ Entrypoint: ["/entry"], Cmd: ["default"] }, { args: ["other", "arg"] }));
    expect(spec.process?.args).toEqual(["/entry", "other", "arg"]);
    const noEntrypoint = await generateSpecFor(ctx(rootfs), withImageConfig({ Cmd: ["/bin/sh"], Entrypoint: null }));
    expect(noEntrypoint.process?.args).toEqual(["/bin/sh"]);
  });

  it("defaults: PATH, cwd /, root with root's supplementary groups", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const spec = await generateSpecFor(ctx(rootfs), withImageConfig({ Cmd: ["true"] }));
    expect(spec.process?.env).toEqual([...DEFAULT_UNIX_ENV]);
    expect(spec.process?.cwd).toBe("/");
    expect(spec.process?.user).toEqual({ uid: 0, gid: 0, additionalGids: [0, 10] });
    const bare = await generateSpecFor(ctx(await userRootfs({})), withImageConfig({}));
    expect(bare.process?.user).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
  });

  it("a user option after the image config overrides the image's user", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    const spec = await generateSpecFor(ctx(rootfs), withImageConfig({ User: "app" }), withUser("svc"));
    expect(spec.process?.user.uid).toBe(1001);
  });

  it("an image user the image does not know fails NotFound", async () => {
    const rootfs = await userRootfs({ passwd: PASSWD, group: GROUP });
    await expect(generateSpecFor(ctx(rootfs), withImageConfig({ User: "ghost" }))).rejects.toSatisfy((err) => classOf(err) === "NotFound");
  });
});
