import { invalidArgument } from "@berth/core";
import { mergeEnv } from "../env.js";
import type { PosixRlimit } from "../runtime-spec.js";
import { processOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

/** Replaces the process's arguments (argv, argv[0] included). */
export function withProcessArgs(...args: string[]): SpecOpt {
  return (spec) => {
    processOf(spec).args = [...args];
  };
}

/** Sets the process's working directory inside the container. */
export function withProcessCwd(cwd: string): SpecOpt {
  return (spec) => {
    processOf(spec).cwd = cwd;
  };
}

/** Merges variables into the environment by name (`K=v` sets, a bare `K` unsets); see mergeEnv. */
export function withEnv(env: readonly string[]): SpecOpt {
  return (spec) => {
    if (env.length === 0) return;
    const process = processOf(spec);
    process.env = mergeEnv(process.env ?? [], env);
  };
}

/** A terminal for the process, and TERM=xterm so programs in it know what they talk to. */
export const withTTY: SpecOpt = (spec) => {
  const process = processOf(spec);
  process.terminal = true;
  if (spec.linux) process.env = [...(process.env ?? []), "TERM=xterm"];
};

/** The terminal's initial size. */
export function withTTYSize(width: number, height: number): SpecOpt {
  return (spec) => {
    processOf(spec).consoleSize = { width, height };
  };
}

/** Sets one resource limit, replacing an earlier one of the same type. */
export function withRlimit(rlimit: PosixRlimit): SpecOpt {
  if (!/^RLIMIT_[A-Z]+$/.test(rlimit.type)) throw invalidArgument(`rlimit type ${JSON.stringify(rlimit.type)} is not an RLIMIT_* name`);
  for (const value of [rlimit.soft, rlimit.hard]) {
    if (typeof value === "number" ? !Number.isSafeInteger(value) || value < 0 : value < 0n || value >= 2n ** 64n) {
      throw invalidArgument(`${rlimit.type}: limit ${value} is not an unsigned 64-bit integer`);
    }
  }
  if (BigInt(rlimit.soft) > BigInt(rlimit.hard)) throw invalidArgument(`${rlimit.type}: soft limit ${rlimit.soft} exceeds hard limit ${rlimit.hard}`);
  return (spec) => {
    const process = processOf(spec);
    const rlimits = (process.rlimits ??= []);
    const at = rlimits.findIndex((r) => r.type === rlimit.type);
    if (at >= 0) rlimits[at] = { ...rlimit };
    else rlimits.push({ ...rlimit });
  };
}

/** The process (and its children) can never gain privileges through setuid binaries or file caps. */
export const withNoNewPrivileges: SpecOpt = (spec) => {
  processOf(spec).noNewPrivileges = true;
};

/** Lifts the default no_new_privs, for images whose programs rely on setuid (sudo, ping). */
export const withNewPrivileges: SpecOpt = (spec) => {
  processOf(spec).noNewPrivileges = false;
};
