import type { Logger } from "@berth/core";
import { endAndFlush } from "../stream-util.js";
import type { AttachRequest, ContainerStreams, ExecRequest, StreamingHandlers, TerminalSize } from "../types.js";
import type { RemoteCommandSession } from "./remote-command-session.js";
import { resizeEvents } from "./resize-events.js";
import { exitCodeStatus, internalErrorStatus, successStatus, type K8sStatus } from "./status.js";

export type RemoteCommand = { kind: "exec"; request: ExecRequest } | { kind: "attach"; request: AttachRequest };

async function* noResizes(): AsyncGenerator<TerminalSize> {}

/**
 * Runs an exec or attach handler over an established session, then reports the outcome on the
 * error stream the way the kubelet does, flushes and ends the output streams, and hangs up.
 */
export async function runRemoteCommand(
  session: RemoteCommandSession,
  command: RemoteCommand,
  handlers: StreamingHandlers,
  log: Logger,
): Promise<void> {
  const streams: ContainerStreams = {
    ...(session.stdin ? { stdin: session.stdin } : {}),
    ...(session.stdout ? { stdout: session.stdout } : {}),
    ...(session.stderr ? { stderr: session.stderr } : {}),
    tty: session.tty,
    resize: session.resize ? resizeEvents(session.resize) : noResizes(),
  };
  let status: K8sStatus;
  try {
    if (command.kind === "exec") {
      const { containerId, cmd } = command.request;
      const { exitCode } = await handlers.exec(containerId, cmd, streams, session.signal);
      status = exitCode === 0 ? successStatus() : exitCodeStatus(exitCode);
    } else {
      await handlers.attach(command.request.containerId, streams, session.signal);
      status = successStatus();
    }
  } catch (err) {
    const what = command.kind === "exec" ? "error executing command in container" : "error attaching to container";
    const message = `${what}: ${(err as Error)?.message ?? String(err)}`;
    log.warn(`streaming: ${command.kind} failed`, { containerId: command.request.containerId, error: message });
    status = internalErrorStatus(message);
  }
  if (!session.signal.aborted) {
    await Promise.all([endAndFlush(session.stdout), endAndFlush(session.stderr)]);
    await session.writeStatus(status);
  }
  await session.close();
}
