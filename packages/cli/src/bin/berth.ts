#!/usr/bin/env node
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";

// Most of berth's start-up is loading and compiling the client's modules (gRPC, the API's
// descriptors); ctr, a Go binary, starts in ~10 ms. Node's on-disk code cache (in the OS temp
// dir, keyed by file content) covers modules loaded after it is enabled, hence the dynamic
// import; the bundle (dist/bundle, made by the repository's scripts/bundle-entry.mjs) saves the
// loader's work on ~300 files: `berth --help` ~270 ms unbundled, ~90 ms bundled. The plain
// modules work the same when the bundle was not made.
enableCompileCache();
const bundled = new URL("../bundle/cli-process.js", import.meta.url);
await (existsSync(bundled) ? import(bundled.href) : import("../cli-process.js"));
