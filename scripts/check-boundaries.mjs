// Package boundaries, checked on every lint: a package imports another only through its
// public entry ("@berth/x", never "@berth/x/src/..." or a relative path out of its folder),
// declares every package it imports, core imports no other Berth package, and the client
// never pulls in the daemon.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const packagesDir = join(root, "packages");
const forbidden = { "@berth/core": /^@berth\//, "@berth/client": /^@berth\/(daemon|cli)$/, "@berth/api": /^@berth\// };
const problems = [];
// Tools every package may use in tests come from the root's devDependencies.
const shared = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies ?? {});

for (const name of readdirSync(packagesDir)) {
  const dir = join(packagesDir, name);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const declared = new Set(
    ["dependencies", "devDependencies", "peerDependencies"].flatMap((k) => Object.keys(manifest[k] ?? {})).concat(shared),
  );
  for (const file of tsFiles(join(dir, "src"))) {
    const text = readFileSync(file, "utf8");
    // Import and export statements start a line; dynamic imports are import("…"). Strings
    // that merely contain the word "from" are neither.
    const statements = text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*["']([^"']+)["']/gm);
    const bare = text.matchAll(/^\s*import\s*["']([^"']+)["']/gm);
    const dynamic = text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g);
    for (const [, spec] of [...statements, ...bare, ...dynamic]) {
      const where = relative(root, file);
      if (spec.startsWith(".")) {
        const target = resolve(file, "..", spec);
        if (!target.startsWith(dir + "/")) problems.push(`${where}: relative import "${spec}" leaves ${manifest.name}`);
        continue;
      }
      if (spec.startsWith("node:")) continue;
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (pkg.startsWith("@berth/") && spec !== pkg) problems.push(`${where}: deep import "${spec}"; use "${pkg}"`);
      if (pkg !== manifest.name && !declared.has(pkg)) problems.push(`${where}: imports "${pkg}" without declaring it in package.json`);
      const rule = forbidden[manifest.name];
      if (rule && rule.test(pkg) && pkg !== manifest.name) problems.push(`${where}: ${manifest.name} must not import ${pkg}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`package boundaries violated:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log("package boundaries: ok");

function* tsFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== "gen") yield* tsFiles(path);
    } else if (path.endsWith(".ts")) yield path;
  }
}
