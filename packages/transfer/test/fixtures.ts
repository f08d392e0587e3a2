import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../../..");
const SHARED = resolve(REPO, "../shared/fixtures");
const IMAGES = join(REPO, ".fixtures/images");

/** The offline OCI layouts of ../shared/fixtures, built once per checkout (the script is idempotent). */
export function fixtureImages(): string {
  if (!existsSync(join(SHARED, "build-images.sh"))) {
    throw new Error(`test fixtures missing: expected ${SHARED}/build-images.sh beside the checkout`);
  }
  if (!existsSync(join(IMAGES, "fixtures.json"))) {
    mkdirSync(IMAGES, { recursive: true });
    execFileSync("bash", [join(SHARED, "build-images.sh"), IMAGES], { stdio: "inherit" });
  }
  return IMAGES;
}

export interface FixtureSummary {
  readonly [image: string]: { readonly manifest?: string; readonly config?: string; readonly layers?: readonly { digest: string }[] } | undefined;
}

export function fixtureSummary(): unknown {
  return JSON.parse(readFileSync(join(fixtureImages(), "fixtures.json"), "utf8"));
}
