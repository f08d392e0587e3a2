import { startContainerdTarget } from "./helpers/containerd-target.js";
import { describeRunScenario } from "./run-scenario.js";

describeRunScenario("Debian's containerd", startContainerdTarget);
