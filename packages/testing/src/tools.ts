import { execFile } from "node:child_process";
import { promisify } from "node:util";

export const exec = promisify(execFile);

/**
 * Fails (never skips) when a tool the tests drive for real is missing, naming the Debian package;
 * otherwise resolves to its path on PATH, for tests that copy it or must run that very binary.
 */
export async function requireTool(binary: string, debianPackage: string): Promise<string> {
  try {
    return (await exec("sh", ["-c", `command -v ${binary}`])).stdout.trim();
  } catch {
    throw new Error(`${binary} is not installed; these tests need it (apt-get install ${debianPackage}, or run scripts/setup.sh)`);
  }
}

/** Fails (never skips) unless the tests run as root; `why` says what needs it. */
export function requireRoot(why = "they mount, lock and chown for real"): void {
  if (process.getuid?.() !== 0) throw new Error(`these tests must run as root: ${why}`);
}
