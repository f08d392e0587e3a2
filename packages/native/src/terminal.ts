import { binding } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/** Sets a terminal's window size (TIOCSWINSZ), e.g. on a console master a container reads from. */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  rethrowAsSystemError(() => binding.setWindowSize(fd, rows, cols));
}
