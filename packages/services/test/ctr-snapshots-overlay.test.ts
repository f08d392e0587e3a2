// Debian's ctr drives the snapshots service over the overlayfs snapshotter (issue #4's "done when").
import { describeCtrSnapshots, exportedPlugin } from "./ctr-snapshots-scenario.js";

describeCtrSnapshots("ctr snapshots --snapshotter overlayfs", {
  snapshotter: "overlayfs",
  plugins: async () => [await exportedPlugin("@berth/snapshot-overlay", "io.containerd.snapshotter.v1")],
});
