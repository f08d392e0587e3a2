import { parseArgs } from "node:util";
import type { BerthClient } from "@berth/client";
import type { CliIo } from "../cli-io.js";
import { createProgressView } from "../progress-view.js";
import { UsageError } from "../usage-error.js";
import { parsePlatformFlag, parseUser } from "./images-options.js";

/** `berth images push [options] REF [LOCAL]`: the daemon pushes LOCAL (default REF) to the registry as REF. */
export async function pushCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      platform: { type: "string", multiple: true },
      "plain-http": { type: "boolean" },
      "hosts-dir": { type: "string" },
      user: { type: "string", short: "u" },
    },
  });
  const [ref, local, ...extra] = positionals;
  if (ref === undefined || extra.length > 0) throw new UsageError("images push takes REF [LOCAL]");
  const view = createProgressView(io.out, io.tty ?? false);
  await client.push(ref, local ?? ref, {
    platforms: (values.platform ?? []).map(parsePlatformFlag),
    plainHttp: values["plain-http"] ?? false,
    ...(values["hosts-dir"] !== undefined ? { hostsDir: values["hosts-dir"] } : {}),
    ...(values.user !== undefined ? { credentials: parseUser(values.user) } : {}),
    signal: io.signal,
    onProgress: (p) => view.update(p),
  });
  view.done();
  return 0;
}
