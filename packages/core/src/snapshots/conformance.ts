import { invalidArgument } from "../errdefs/index.js";
import type { ConformanceCase } from "./conformance-harness.js";
import { errorCases } from "./conformance-errors.js";
import { filesystemCases } from "./conformance-files.js";
import { metadataCases } from "./conformance-metadata.js";
import { deepChainCase } from "./conformance-deep.js";
import { rebaseCases } from "./conformance-rebase.js";

export type { ConformanceCase, ConformanceHarness } from "./conformance-harness.js";
export { DEEP_CHAIN_CASE, DEEP_CHAIN_LAYERS } from "./conformance-deep.js";

export interface ConformanceOptions {
  /**
   * Ids of optional cases this backend leaves out (say why where you call it). Only cases marked
   * `optional` can be left out; naming any other id, or an unknown one, throws, so a typo or an
   * attempt to drop a required case never silently shrinks the suite.
   */
  readonly skip?: readonly string[];
  /** The backend's plugin lists SNAPSHOT_REBASE_CAPABILITY: the rebase cases run too. */
  readonly rebase?: boolean;
}

/**
 * containerd's snapshotter contract as a list of test cases, for every snapshotter package and
 * third-party backend to run against itself. It depends on no test framework: each case throws
 * (node:assert) on failure, so a vitest file runs it as
 *
 *   for (const c of snapshotterConformance()) it(c.name, async () => c.run(await makeHarness()));
 *
 * with a fresh snapshotter (and root) per case.
 */
export function snapshotterConformance(opts: ConformanceOptions = {}): ConformanceCase[] {
  const all = [...filesystemCases, ...metadataCases, ...errorCases, deepChainCase, ...(opts.rebase ? rebaseCases : [])];
  const skip = new Set(opts.skip ?? []);
  for (const id of skip) {
    const found = all.find((c) => c.id === id);
    if (!found) throw invalidArgument(`snapshotter conformance: no case "${id}" to skip`);
    if (!found.optional) throw invalidArgument(`snapshotter conformance: case "${id}" is required and cannot be skipped`);
  }
  return all.filter((c) => !skip.has(c.id));
}
