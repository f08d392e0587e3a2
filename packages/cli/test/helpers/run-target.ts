/**
 * Something `berth run` can run containers on: a private Debian containerd or an in-process
 * berthd, each with its own socket, state and namespace, and the `tiny` fixture imported.
 */
export interface RunTarget {
  readonly name: string;
  readonly address: string;
  /** A namespace of this test run's own (the runc state and cgroups are named after it). */
  readonly namespace: string;
  /** The tiny fixture, imported and unpacked into overlayfs. */
  readonly image: string;
  /** Runs Debian's ctr against the target in the namespace; rejects with its output on failure. */
  ctr(...args: string[]): Promise<string>;
  /** Imports the tiny fixture into `namespace` without unpacking it. */
  importPacked(namespace: string, name: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The tiny fixture's name in every target (ctr 1.6 names its "latest" after --base-name). */
export const TINY = "berth.test/tiny:latest";
