import type { Readable } from "node:stream";
import type { TerminalSize } from "../types.js";

/** Sizes kept for a handler that reads them slowly; older ones are dropped (only the latest matters). */
const MAX_QUEUED = 16;

/**
 * Terminal sizes from a resize stream: JSON objects one after another, as Go's json.Encoder
 * writes them ({"Width":80,"Height":24}\n). Field names match case-insensitively, as Go's
 * decoder does. The stream is drained eagerly, so a handler that never looks at resizes cannot
 * stall the connection; the iterable ends when the stream does. Malformed input ends it too.
 */
export function resizeEvents(stream: Readable): AsyncIterable<TerminalSize> {
  const queue: TerminalSize[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      for await (const size of parseSizes(stream)) {
        queue.push(size);
        if (queue.length > MAX_QUEUED) queue.shift();
        notify();
      }
    } catch {
      // A reset or closed stream simply ends the sizes.
    } finally {
      ended = true;
      notify();
    }
  })();
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

async function* parseSizes(stream: Readable): AsyncGenerator<TerminalSize> {
  let text = "";
  for await (const chunk of stream) {
    text += (chunk as Buffer).toString("utf8");
    for (;;) {
      const { object, rest } = nextJsonObject(text);
      if (object === undefined) break;
      text = rest;
      const size = toTerminalSize(object);
      if (size) yield size;
    }
    if (text.length > 64 * 1024) return;
  }
}

function nextJsonObject(text: string): { object: string | undefined; rest: string } {
  const start = text.indexOf("{");
  if (start < 0) return { object: undefined, rest: "" };
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return { object: text.slice(start, i + 1), rest: text.slice(i + 1) };
  }
  return { object: undefined, rest: text.slice(start) };
}

function toTerminalSize(json: string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const fields = new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
  const width = Number(fields.get("width") ?? 0);
  const height = Number(fields.get("height") ?? 0);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return undefined;
  return { width, height };
}
