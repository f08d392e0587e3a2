import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { BerthClient } from "@berth/client";
import type { CliIo } from "../cli-io.js";
import { createProgressView } from "../progress-view.js";
import { UsageError } from "../usage-error.js";
import { parsePlatformFlag } from "./images-options.js";

/**
 * `berth images import [options] FILE|-`: the archive (OCI layout or docker-archive tar, gzip
 * or zstd or plain) is streamed to the daemon, which stores and unpacks it.
 */
export async function importCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "base-name": { type: "string" },
      digests: { type: "boolean" },
      "index-name": { type: "string" },
      platform: { type: "string" },
      "all-platforms": { type: "boolean" },
      snapshotter: { type: "string", default: "overlayfs" },
      "no-unpack": { type: "boolean" },
      label: { type: "string", multiple: true },
    },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("images import takes one FILE (- for stdin)");
  const input = file === "-" ? (io.stdin ?? process.stdin) : createReadStream(file, { highWaterMark: 1 << 20 });
  const view = createProgressView(io.out, io.tty ?? false);
  await client.importImages(input as AsyncIterable<Uint8Array>, {
    ...(values["base-name"] !== undefined ? { baseName: values["base-name"] } : {}),
    digests: values.digests ?? false,
    ...(values["index-name"] !== undefined ? { indexName: values["index-name"] } : {}),
    ...(values.platform !== undefined ? { platforms: [parsePlatformFlag(values.platform)] } : {}),
    allPlatforms: values["all-platforms"] ?? false,
    snapshotter: values["no-unpack"] ? "" : values.snapshotter,
    labels: parseLabels(values.label ?? []),
    signal: io.signal,
    onProgress: (p) => view.update(p),
  });
  view.done();
  return 0;
}

/**
 * `berth images export [options] FILE|- REF…`: the daemon writes the images as an OCI image
 * layout tar (with docker's manifest.json) onto a stream; a FILE appears only once complete.
 */
export async function exportCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      platform: { type: "string", multiple: true },
      "all-platforms": { type: "boolean" },
      "skip-manifest-json": { type: "boolean" },
    },
  });
  const [file, ...refs] = positionals;
  if (file === undefined || refs.length === 0) throw new UsageError("images export takes FILE (- for stdout) and at least one REF");
  const opts = {
    platforms: (values.platform ?? []).map(parsePlatformFlag),
    allPlatforms: values["all-platforms"] ?? false,
    skipManifestJson: values["skip-manifest-json"] ?? false,
    signal: io.signal,
  };
  if (file === "-") {
    const out = io.stdout ?? process.stdout;
    await client.exportImages(refs, (chunk) => writeTo(out, chunk), opts);
    return 0;
  }
  // Written beside the target and renamed at the end: a failed export leaves no partial file.
  const partial = `${file}.partial-${process.pid}`;
  const handle = await open(partial, "w", 0o644);
  try {
    await client.exportImages(refs, async (chunk) => void (await handle.write(chunk)), opts);
    await handle.close();
    await rename(partial, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  return 0;
}

function writeTo(out: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> | void {
  if (out.write(chunk)) return;
  return new Promise((resolve) => out.once("drain", () => resolve()));
}

function parseLabels(labels: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    labels.map((l) => {
      const eq = l.indexOf("=");
      return eq < 0 ? [l, ""] : [l.slice(0, eq), l.slice(eq + 1)];
    }),
  );
}
