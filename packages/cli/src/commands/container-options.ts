import type { NewContainerOptions } from "@berth/client";
import { UsageError } from "../usage-error.js";

/** The options `run` and `containers create` share: what the container and its spec are made of. */
export const CONTAINER_OPTIONS = {
  tty: { type: "boolean", short: "t" },
  runtime: { type: "string" },
  snapshotter: { type: "string" },
  env: { type: "string", multiple: true },
  cwd: { type: "string" },
  user: { type: "string", short: "u" },
  hostname: { type: "string" },
  label: { type: "string", multiple: true },
  seccomp: { type: "boolean" },
} as const;

interface ContainerFlags {
  tty?: boolean | undefined;
  runtime?: string | undefined;
  snapshotter?: string | undefined;
  env?: string[] | undefined;
  cwd?: string | undefined;
  user?: string | undefined;
  hostname?: string | undefined;
  label?: string[] | undefined;
  seccomp?: boolean | undefined;
}

/** What `client.newContainer` takes, from those flags, the image and the command line. */
export function newContainerOptions(image: string, command: string[], values: ContainerFlags): NewContainerOptions {
  return {
    image,
    snapshotter: values.snapshotter,
    runtime: values.runtime,
    args: command,
    env: values.env,
    cwd: values.cwd,
    user: values.user,
    tty: values.tty ?? false,
    hostname: values.hostname,
    seccomp: values.seccomp,
    labels: parseLabels(values.label ?? []),
  };
}

export function parseLabels(list: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of list) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new UsageError(`--label ${entry}: want KEY=VALUE`);
    labels[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return labels;
}
