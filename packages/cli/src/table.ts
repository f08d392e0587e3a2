/** Columns padded like Go's tabwriter as ctr uses it (min width 4, padding 4, spaces). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(4, ...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 4))).join("").trimEnd()).join("\n") + "\n";
}
