// Compiles src/berth_native.c into dist/berth_native.node with gcc. No node-gyp: it would
// download headers, and there is no network here. N-API is ABI-stable, so the headers of any
// Node >= 12 will do; the running node's own come first. zlib.h is among them: the addon's
// inflate calls bind to the zlib the node binary exports. With ISA-L's header (Debian's
// libisal-dev, which the set-up installs) the faster igzip inflate is compiled in too; the
// library itself is opened at run time, so the addon loads on hosts without it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const packageDir = resolve(import.meta.dirname, "..");

function nodeHeaderCandidates() {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  return [
    process.env.BERTH_NODE_HEADERS,
    join(prefix, "include", "node"),
    // npm's `node` package hardlinks its binary out of node-<platform>-<arch>, which keeps the headers.
    join(prefix, "node_modules", `node-${process.platform}-${process.arch}`, "include", "node"),
    "/usr/include/node",
  ].filter((dir) => dir !== undefined && dir !== "");
}

const headers = nodeHeaderCandidates().find((dir) => existsSync(join(dir, "node_api.h")));
if (headers === undefined) {
  console.error(`build-addon: node_api.h not found; looked in:\n  ${nodeHeaderCandidates().join("\n  ")}`);
  console.error("build-addon: set BERTH_NODE_HEADERS to a directory holding node_api.h (e.g. Debian's libnode-dev /usr/include/node)");
  process.exit(1);
}

const ISAL_HEADER = "/usr/include/isa-l/igzip_lib.h";
const isal = existsSync(ISAL_HEADER) ? ["-DBERTH_ISAL"] : [];
if (isal.length === 0) console.warn(`build-addon: ${ISAL_HEADER} not found (apt-get install libisal-dev): gzip layers will inflate with zlib only, ~3x slower`);

mkdirSync(join(packageDir, "dist"), { recursive: true });
const args = ["-O2", "-shared", "-fPIC", "-pthread", "-Wall", "-Wextra", "-Werror", "-I", headers, ...isal,
  "-o", "dist/berth_native.node", "src/berth_native.c", "src/gzip_inflater.c", "src/file_batch.c", "src/page_cache.c", "src/disk_usage.c", "-ldl"];
try {
  execFileSync("gcc", args, { cwd: packageDir, stdio: "inherit" });
} catch (err) {
  const missing = err && typeof err === "object" && "code" in err && err.code === "ENOENT";
  console.error(missing ? "build-addon: gcc not found (apt-get install gcc libc6-dev)" : `build-addon: gcc ${args.join(" ")} failed`);
  process.exit(1);
}
