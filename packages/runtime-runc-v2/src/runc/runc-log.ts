import { open, stat } from "node:fs/promises";

/** Where the log ends now: errors written after this offset belong to the next command. */
export async function runcLogEnd(logPath: string): Promise<number> {
  return stat(logPath).then(
    (s) => s.size,
    () => 0,
  );
}

/**
 * The message of the last error runc wrote to its JSON log (`--log … --log-format json`) after
 * `from`: what went wrong inside runc init, which the command's exit status does not tell.
 * Reading from the command's start keeps an older command's error from being reported again.
 */
export async function lastRuncError(logPath: string, from = 0): Promise<string | undefined> {
  let text: string;
  try {
    const file = await open(logPath, "r");
    try {
      const { size } = await file.stat();
      const length = Math.max(0, size - from);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, from);
      text = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
  let message: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.includes('"error"')) continue;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (entry.level === "error" && typeof entry.msg === "string") message = entry.msg.trim();
    } catch {
      // a torn last line while runc is still writing
    }
  }
  return message;
}
