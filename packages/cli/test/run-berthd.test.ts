import { startBerthdTarget } from "./helpers/berthd-target.js";
import { describeRunScenario } from "./run-scenario.js";

describeRunScenario("berthd", startBerthdTarget);
