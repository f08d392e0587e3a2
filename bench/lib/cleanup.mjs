// Clean-up actions registered as things start, run last-in first-out on exit, error or signal.
import { abortChildren, cleanupScope } from "./proc.mjs";

const actions = [];
let running;

/** Registers `fn` to run at clean-up; returns a function that runs it now (once) instead. */
export function onCleanup(name, fn) {
  const entry = { name, fn, done: false };
  actions.push(entry);
  return async () => {
    if (entry.done) return;
    entry.done = true;
    actions.splice(actions.indexOf(entry), 1);
    await fn();
  };
}

/** Runs every pending action, newest first; a failing action is reported and skipped. */
export function runCleanup(log = (m) => process.stderr.write(`${m}\n`)) {
  running ??= cleanupScope.run({ cleanup: true }, async () => {
    while (actions.length > 0) {
      const entry = actions.pop();
      if (entry.done) continue;
      entry.done = true;
      try {
        await entry.fn();
      } catch (err) {
        log(`clean-up: ${entry.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });
  return running;
}

/** SIGINT/SIGTERM/SIGHUP and uncaught errors clean up before the process exits. */
export function installExitHandlers(log) {
  let signalled = false;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      if (signalled) return; // a second Ctrl-C waits for the clean-up already under way
      signalled = true;
      log(`\n${sig}: cleaning up…`);
      abortChildren();
      runCleanup(log).finally(() => process.exit(130));
    });
  }
  process.on("uncaughtException", (err) => {
    log(`uncaught: ${err?.stack ?? err}`);
    abortChildren();
    runCleanup(log).finally(() => process.exit(1));
  });
  process.on("unhandledRejection", (err) => {
    log(`unhandled rejection: ${err?.stack ?? err}`);
    abortChildren();
    runCleanup(log).finally(() => process.exit(1));
  });
}
