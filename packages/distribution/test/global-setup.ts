import { fixtureRegistrySetup } from "@berth/testing";

/** One registry holding tiny, tiny-multiarch and multi (pushed by skopeo) for every test file. */
export default fixtureRegistrySetup(["tiny", "tiny-multiarch", "multi"]);
