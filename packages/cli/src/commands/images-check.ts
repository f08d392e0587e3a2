import { parseArgs } from "node:util";
import type { BerthClient } from "@berth/client";
import type { CliIo } from "../cli-io.js";
import { formatTable } from "../table.js";
import { formatBytes } from "./images-options.js";

/**
 * `berth images check [-q] [--snapshotter NAME] [FILTER…]`: for each image, whether all the
 * content of the client platform's manifest is there and whether it is unpacked, as ctr prints.
 */
export async function checkCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { quiet: { type: "boolean", short: "q" }, snapshotter: { type: "string", default: "overlayfs" } },
  });
  const checks = await client.checkImages(positionals, { snapshotter: values.snapshotter });
  if (values.quiet) {
    io.out(checks.filter((c) => c.available && c.missing.length === 0 && c.unpacked).map((c) => `${c.name}\n`).join(""));
    return 0;
  }
  const total = (descs: readonly { size: number }[]) => descs.reduce((sum, d) => sum + Number(d.size), 0);
  const rows = checks.map((c) => {
    const status = !c.available
      ? `unavailable (${c.present.length}/?)`
      : `${c.missing.length === 0 ? "complete" : "incomplete"} (${c.present.length}/${c.required.length})`;
    const size = c.available ? `${formatBytes(total(c.present))}/${formatBytes(total(c.required))}` : `${formatBytes(total(c.present))}/?`;
    return [c.name, c.target.mediaType, c.target.digest, status, size, String(c.unpacked)];
  });
  io.out(formatTable(["REF", "TYPE", "DIGEST", "STATUS", "SIZE", "UNPACKED"], rows));
  return 0;
}
