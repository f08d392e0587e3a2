import { failedPrecondition } from "@berth/core";
import { DEFAULT_UNIX_ENV } from "../default-spec.js";
import { mergeEnv } from "../env.js";
import type { ImageConfig } from "../image-config.js";
import { processOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";
import { withAdditionalGids, withUser, type UserLookupOptions } from "./user.js";

export interface ImageConfigOptions extends UserLookupOptions {
  /** Replace the image's Cmd (the Entrypoint stays), as `berth run IMAGE ID CMD…` does. */
  readonly args?: readonly string[] | undefined;
}

/**
 * Runs what the image says, as containerd's WithImageConfig: its Env (or the default PATH) under
 * any variables already in the spec, Entrypoint + (args or Cmd), WorkingDir (or "/"), and its User
 * resolved in the image's /etc/passwd and /etc/group; with no User, root with root's supplementary
 * groups.
 */
export function withImageConfig(config: ImageConfig, opts: ImageConfigOptions = {}): SpecOpt {
  return async (spec, ctx) => {
    if (!spec.linux) throw failedPrecondition("withImageConfig needs a spec with a linux section");
    const process = processOf(spec);
    const imageEnv = config.Env && config.Env.length > 0 ? config.Env : DEFAULT_UNIX_ENV;
    process.env = mergeEnv(imageEnv, process.env ?? []);
    const cmd = opts.args && opts.args.length > 0 ? opts.args : (config.Cmd ?? []);
    process.args = [...(config.Entrypoint ?? []), ...cmd];
    process.cwd = config.WorkingDir || "/";
    if (config.User) {
      await withUser(config.User, opts)(spec, ctx);
    } else {
      await withAdditionalGids("root", opts)(spec, ctx);
    }
  };
}
