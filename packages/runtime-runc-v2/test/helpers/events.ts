import { spawn } from "node:child_process";
import { eventually } from "./tools.js";

export interface SeenEvent {
  readonly topic: string;
  readonly namespace: string;
  /** The event as ctr prints it (JSON). */
  readonly body: string;
}

/** `ctr events` running in the background: every event containerd publishes, in order. */
export interface EventWatch {
  readonly events: SeenEvent[];
  /** Topics of events that mention `containerId`, in order. */
  topicsFor(containerId: string): string[];
  /** Waits until an event with `topic` mentions `containerId`. */
  waitFor(topic: string, containerId: string): Promise<SeenEvent>;
  stop(): void;
}

export async function watchEvents(socket: string): Promise<EventWatch> {
  const child = spawn("ctr", ["-a", socket, "events"], { stdio: ["ignore", "pipe", "pipe"] });
  const events: SeenEvent[] = [];
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      // "2026-11-23 04:25:54.315 +0000 UTC default /tasks/create {...}"
      const match = /^\S+ \S+ \S+ \S+ (\S+) (\S+) ?(.*)$/.exec(line);
      if (match) events.push({ namespace: match[1]!, topic: match[2]!, body: match[3] ?? "" });
    }
  });
  // ctr events subscribes asynchronously; let it settle before the test acts.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const mentions = (e: SeenEvent, id: string) => e.body.includes(`"${id}"`);
  return {
    events,
    topicsFor: (id) => events.filter((e) => mentions(e, id)).map((e) => e.topic),
    waitFor: (topic, id) => eventually(() => events.find((e) => e.topic === topic && mentions(e, id))),
    stop: () => child.kill(),
  };
}
