// The table (Markdown, padded so it also reads well in a terminal), latest.json, the README section.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fmt } from "./stats.mjs";

const cell = (rec, key) => {
  const status = rec.status?.[key];
  if (status === "error") return "error";
  if (status === "n/a") return "n/a";
  return fmt(rec[key]);
};

/** Markdown table of the records. */
export function table(records) {
  const head = ["workload", "unit", "better", "containerd", "berth", "berth ÷ containerd", "floor", "floor is"];
  const rows = records.map((r) => [
    r.title,
    r.unit,
    r.better,
    cell(r, "containerd"),
    cell(r, "berth"),
    r.ratio === null ? (r.status.berth === "error" ? "error" : "n/a") : r.ratio.toFixed(2),
    "floor" in r ? cell(r, "floor") : "—",
    r.floorLabel ?? "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = new Set([3, 4, 5, 6]);
  const line = (cells) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** Why a figure is n/a or an error, one line each. */
export function notes(records) {
  const seen = new Set();
  const out = [];
  for (const r of records) {
    for (const [who, text] of Object.entries(r.notes ?? {})) {
      const key = `${r.workload.split(".")[0]}:${who}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(`- ${r.title.replace(/, (PSS|RSS)$/, "")} — ${who} ${r.status[who]}: ${text.split("\n")[0]}`);
    }
  }
  return out.join("\n");
}

export function header(meta) {
  const m = meta.machine;
  return [
    `${meta.date.replace("T", " ").replace(/\.\d+Z$/, " UTC")} — ${meta.mode} mode, ${meta.runsNote}; medians`,
    `machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, ${m.distro}, cgroup ${m.cgroup}, ${m.filesystem}`,
    `software: ${m.containerd}; ${m.runc.replace(/^runc version /, "runc ")}; ${m.berthd} on Node ${m.node}; commit ${m.commit}`,
  ].join("\n");
}

export function writeJson(path, meta, records) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...meta, results: records }, null, 2) + "\n");
}

const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

/** Replaces the results section of the README (between the markers). */
export function updateReadme(path, meta, records) {
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path} has no ${START} … ${END} section`);
  const n = notes(records);
  const body = ["", "```", header(meta), "```", "", table(records), "", ...(n ? [n, ""] : [])].join("\n");
  writeFileSync(path, text.slice(0, a + START.length) + body + text.slice(b));
}
