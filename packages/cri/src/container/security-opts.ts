import { readFile } from "node:fs/promises";
import type { criApi } from "@berth/api";
import { invalidArgument } from "@berth/core";
import {
  composeSpecOpts,
  withAllCurrentCapabilities,
  withAddedCapabilities,
  withCapabilities,
  withDefaultSeccomp,
  withDroppedCapabilities,
  withSeccompProfile,
  type LinuxSeccomp,
  type SpecOpt,
} from "@berth/oci";

/** CRI capability names ("NET_ADMIN", "ALL") to the spec's: ALL first, then single adds and drops. */
export function withCriCapabilities(caps: criApi.Capability | undefined): SpecOpt {
  if (caps === undefined) return () => {};
  const isAll = (c: string) => c.toUpperCase() === "ALL";
  const names = (list: readonly string[]) => list.filter((c) => !isAll(c)).map((c) => `CAP_${c.toUpperCase()}`);
  const opts: SpecOpt[] = [];
  // ALL means what this daemon holds (root here may lack CAP_SYS_RESOURCE), as containerd does.
  if (caps.addCapabilities.some(isAll)) opts.push(withAllCurrentCapabilities);
  if (caps.dropCapabilities.some(isAll)) opts.push(withCapabilities([]));
  opts.push(withAddedCapabilities(names(caps.addCapabilities)), withDroppedCapabilities(names(caps.dropCapabilities)));
  return composeSpecOpts(...opts);
}

/** No ambient capabilities: Kubernetes leaves non-root + capabilities undefined; Docker drops them. */
export const withoutAmbientCapabilities: SpecOpt = (spec) => {
  if (spec.process?.capabilities) delete spec.process.capabilities.ambient;
};

type SeccompChoice = { kind: "none" } | { kind: "default" } | { kind: "file"; path: string };

/**
 * Which seccomp profile the container gets: the `seccomp` field when present, else the
 * deprecated `seccomp_profile_path` ("" and "unconfined" → none, "runtime/default" and
 * "docker/default" → the default profile, "localhost/<path>" → that file). Privileged → none.
 */
export function seccompChoice(sc: criApi.LinuxContainerSecurityContext | undefined): SeccompChoice {
  if (sc?.privileged) return { kind: "none" };
  const profile = sc?.seccomp;
  if (profile !== undefined) {
    switch (profile.profileType) {
      case 0:
        return { kind: "default" };
      case 1:
        return { kind: "none" };
      case 2:
        if (profile.localhostRef === "") throw invalidArgument("seccomp: a Localhost profile needs localhost_ref");
        return { kind: "file", path: profile.localhostRef };
    }
  }
  const path = sc?.seccompProfilePath ?? "";
  if (path === "" || path === "unconfined") return { kind: "none" };
  if (path === "runtime/default" || path === "docker/default") return { kind: "default" };
  if (path.startsWith("localhost/")) return { kind: "file", path: path.slice("localhost/".length) };
  throw invalidArgument(`seccomp: unknown profile ${JSON.stringify(path)}`);
}

export function withCriSeccomp(choice: SeccompChoice): SpecOpt {
  switch (choice.kind) {
    case "none":
      return () => {};
    case "default":
      return withDefaultSeccomp();
    case "file":
      return async (spec, ctx) => {
        const text = await readFile(choice.path, "utf8").catch((err: unknown) => {
          throw invalidArgument(`seccomp: cannot read profile ${choice.path}: ${(err as Error).message}`);
        });
        await withSeccompProfile(profileFromJson(text, choice.path))(spec, ctx);
      };
  }
}

/** A profile file in Docker's format (or the OCI one) as the spec's LinuxSeccomp. */
function profileFromJson(text: string, path: string): LinuxSeccomp {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw invalidArgument(`seccomp: profile ${path} is not JSON`, err);
  }
  const defaultAction = raw["defaultAction"];
  if (typeof defaultAction !== "string") throw invalidArgument(`seccomp: profile ${path} has no defaultAction`);
  const architectures: string[] = [];
  if (Array.isArray(raw["architectures"])) architectures.push(...(raw["architectures"] as string[]));
  if (Array.isArray(raw["archMap"])) {
    for (const a of raw["archMap"] as { architecture?: string; subArchitectures?: string[] }[]) {
      if (a.architecture) architectures.push(a.architecture, ...(a.subArchitectures ?? []));
    }
  }
  const syscalls = (Array.isArray(raw["syscalls"]) ? (raw["syscalls"] as Record<string, unknown>[]) : []).map((s) => ({
    names: Array.isArray(s["names"]) ? (s["names"] as string[]) : typeof s["name"] === "string" ? [s["name"]] : [],
    action: s["action"] as LinuxSeccomp["defaultAction"],
    ...(typeof s["errnoRet"] === "number" ? { errnoRet: s["errnoRet"] } : {}),
    ...(Array.isArray(s["args"]) && (s["args"] as unknown[]).length > 0 ? { args: s["args"] as NonNullable<LinuxSeccomp["syscalls"]>[number]["args"] } : {}),
  }));
  return {
    defaultAction: defaultAction as LinuxSeccomp["defaultAction"],
    ...(typeof raw["defaultErrnoRet"] === "number" ? { defaultErrnoRet: raw["defaultErrnoRet"] } : {}),
    ...(architectures.length > 0 ? { architectures: architectures as LinuxSeccomp["architectures"] } : {}),
    ...(Array.isArray(raw["flags"]) ? { flags: raw["flags"] as string[] } : {}),
    syscalls,
  };
}
