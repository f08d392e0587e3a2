import { parseArgs } from "node:util";
import { imagesApi } from "@berth/api";
import type { BerthClient } from "@berth/client";
import { isNotFound } from "@berth/core";
import { UsageError } from "../usage-error.js";
import { createProgressView } from "../progress-view.js";
import { formatTable } from "../table.js";
import type { CliIo } from "../cli-io.js";
import { exportCommand, importCommand } from "./images-archive.js";
import { checkCommand } from "./images-check.js";
import { parsePlatformFlag, parseUser } from "./images-options.js";
import { pushCommand } from "./images-push.js";

const USAGE = `Usage: berth images COMMAND [options] [args]

Commands:
  pull [--platform P]… [--all-platforms] [--plain-http] [--hosts-dir DIR] [--user USER[:PASS]]
       [--snapshotter NAME] [--skip-unpack] REF      pull in the daemon, with progress
  push [--platform P]… [--plain-http] [--hosts-dir DIR] [--user USER[:PASS]] REF [LOCAL]
                                                    push LOCAL (default REF) to the registry as REF
  import [--base-name NAME] [--digests] [--index-name NAME] [--platform P] [--all-platforms]
         [--snapshotter NAME] [--no-unpack] [--label K=V]… FILE|-
                                                    import an OCI layout or docker-archive tar
  export [--platform P]… [--all-platforms] [--skip-manifest-json] FILE|- REF…
                                                    export images as an OCI layout tar
  check [-q] [--snapshotter NAME] [FILTER…]         is each image's content there, is it unpacked
  ls [-q] [FILTER…]                                 list images (alias: list)
  rm NAME…                                          remove images (alias: remove, delete)
  tag [--force] SOURCE TARGET…                      name an image's target again
`;

/** `berth images …` (alias `image`, `i`), after ctr's image commands. */
export async function imagesCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "pull":
      return pull(client, rest, io);
    case "push":
      return pushCommand(client, rest, io);
    case "import":
      return importCommand(client, rest, io);
    case "export":
      return exportCommand(client, rest, io);
    case "check":
      return checkCommand(client, rest, io);
    case "ls":
    case "list":
      return list(client, rest, io);
    case "rm":
    case "remove":
    case "delete":
      return remove(client, rest, io);
    case "tag":
      return tag(client, rest, io);
    default:
      throw new UsageError(sub === undefined ? USAGE : `unknown images command "${sub}"\n${USAGE}`);
  }
}

async function pull(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      platform: { type: "string", multiple: true },
      "all-platforms": { type: "boolean" },
      "plain-http": { type: "boolean" },
      "hosts-dir": { type: "string" },
      user: { type: "string", short: "u" },
      snapshotter: { type: "string", default: "overlayfs" },
      "skip-unpack": { type: "boolean" },
    },
  });
  const [ref] = positionals;
  if (ref === undefined || positionals.length > 1) throw new UsageError("images pull takes one reference");
  const view = createProgressView(io.out, io.tty ?? false);
  await client.pull(ref, {
    platforms: (values.platform ?? []).map(parsePlatformFlag),
    allPlatforms: values["all-platforms"] ?? false,
    plainHttp: values["plain-http"] ?? false,
    hostsDir: values["hosts-dir"],
    credentials: values.user === undefined ? undefined : parseUser(values.user),
    snapshotter: values["skip-unpack"] ? "" : values.snapshotter,
    signal: io.signal,
    onProgress: (p) => view.update(p),
  });
  view.done();
  return 0;
}

async function list(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { quiet: { type: "boolean", short: "q" } } });
  const { images } = await client.service(imagesApi.Images).list({ filters: positionals });
  if (values.quiet) {
    io.out(images.map((i) => `${i.name}\n`).join(""));
    return 0;
  }
  const rows = images.map((i) => [
    i.name,
    i.target?.mediaType ?? "",
    i.target?.digest ?? "",
    Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(",") || "-",
  ]);
  io.out(formatTable(["REF", "TYPE", "DIGEST", "LABELS"], rows));
  return 0;
}

async function remove(client: BerthClient, names: string[], io: CliIo): Promise<number> {
  if (names.length === 0) throw new UsageError("images rm takes at least one name");
  const images = client.service(imagesApi.Images);
  let failed = 0;
  for (const name of names) {
    try {
      await images.delete({ name });
      io.out(`${name}\n`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      io.err(`berth: image ${name} not found\n`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

async function tag(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { force: { type: "boolean" } } });
  const [source, ...targets] = positionals;
  if (source === undefined || targets.length === 0) throw new UsageError("images tag takes SOURCE TARGET…");
  const images = client.service(imagesApi.Images);
  const { image } = await images.get({ name: source });
  for (const target of targets) {
    const copy = { name: target, labels: image?.labels ?? {}, target: image?.target };
    if (values.force) {
      try {
        await images.update({ image: copy });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await images.create({ image: copy });
      }
    } else {
      await images.create({ image: copy });
    }
    io.out(`${target}\n`);
  }
  return 0;
}
