import type { TransferProgress } from "@berth/client";

/** Renders transfer progress: live bars on a terminal, a line per state change otherwise. */
export interface ProgressView {
  update(p: TransferProgress): void;
  done(): void;
}

const BYTE_EVENTS = new Set(["downloading", "uploading", "verifying", "complete", "already exists", "mounted", "unpacked", "unpacking", "waiting"]);

export function createProgressView(out: (text: string) => void, tty: boolean, now: () => number = Date.now): ProgressView {
  return tty ? terminalView(out, now) : plainView(out);
}

function plainView(out: (text: string) => void): ProgressView {
  const last = new Map<string, string>();
  return {
    update(p) {
      if (!BYTE_EVENTS.has(p.event)) return out(`${note(p)}\n`);
      if (last.get(p.name) === p.event) return;
      last.set(p.name, p.event);
      out(`${short(p.name)}: ${p.event} ${p.total > 0 ? size(p.total) : ""}\n`.replace(/ \n$/, "\n"));
    },
    done() {},
  };
}

interface Row {
  event: string;
  progress: number;
  total: number;
  startedAt: number;
  updatedAt: number;
}

function terminalView(out: (text: string) => void, now: () => number): ProgressView {
  const rows = new Map<string, Row>();
  const notes: string[] = [];
  let drawn = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const lines = [...notes.splice(0)];
    for (const [name, r] of rows) lines.push(renderRow(name, r));
    // Move up over what was drawn before and repaint; notes scroll away above the rows.
    out(`${drawn > 0 ? `\x1b[${drawn}A` : ""}${lines.map((l) => `\x1b[2K${l}\n`).join("")}`);
    drawn = rows.size;
  };
  return {
    update(p) {
      if (!BYTE_EVENTS.has(p.event)) {
        notes.push(note(p));
        return draw(true);
      }
      const t = now();
      const row = rows.get(p.name) ?? { event: p.event, progress: 0, total: p.total, startedAt: t, updatedAt: t };
      row.event = p.event;
      row.progress = p.progress;
      row.total = p.total || row.total;
      row.updatedAt = t;
      rows.set(p.name, row);
      draw(p.event !== "downloading");
    },
    done: () => draw(true),
  };
}

function renderRow(name: string, r: Row): string {
  const width = 30;
  const fraction = r.total > 0 ? Math.min(1, r.progress / r.total) : r.event === "downloading" ? 0 : 1;
  const filled = Math.round(fraction * width);
  const bar = `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? (fraction < 1 ? ">" : "=") : ""}${" ".repeat(width - filled)}]`;
  const seconds = Math.max(0.001, (r.updatedAt - r.startedAt) / 1000);
  const rate = r.event === "downloading" || r.event === "uploading" ? ` ${size(r.progress / seconds)}/s` : "";
  return `${short(name).padEnd(20)} ${r.event.padEnd(15)} ${bar} ${size(r.progress)}/${size(r.total)}${rate}`;
}

/** An event that is not about one blob: containerd sends some without a name. */
function note(p: TransferProgress): string {
  return p.name === "" ? p.event : `${p.event} ${p.name}`;
}

function short(name: string): string {
  return name.startsWith("sha256:") ? name.slice(0, 19) : name;
}

function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}
