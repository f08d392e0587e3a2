import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { eventPayloads, packAny, type AnyPayload } from "@berth/api";

/** An event ready to publish: containerd's topic and the payload packed as its typeurl does. */
export interface TaskEvent {
  readonly topic: string;
  readonly event: AnyPayload;
}

type EventFactory<D extends DescMessage> = (payload: MessageInitShape<D>) => TaskEvent;

function make<D extends DescMessage>(topic: string, schema: D): EventFactory<D> {
  return (payload) => ({ topic, event: packAny(schema, payload) });
}

// containerd's runtime topics, one per event type (runtime/events.go).
export const taskCreate: EventFactory<typeof eventPayloads.TaskCreateSchema> = make("/tasks/create", eventPayloads.TaskCreateSchema);
export const taskStart: EventFactory<typeof eventPayloads.TaskStartSchema> = make("/tasks/start", eventPayloads.TaskStartSchema);
export const taskExit: EventFactory<typeof eventPayloads.TaskExitSchema> = make("/tasks/exit", eventPayloads.TaskExitSchema);
export const taskDelete: EventFactory<typeof eventPayloads.TaskDeleteSchema> = make("/tasks/delete", eventPayloads.TaskDeleteSchema);
export const taskExecAdded: EventFactory<typeof eventPayloads.TaskExecAddedSchema> = make("/tasks/exec-added", eventPayloads.TaskExecAddedSchema);
export const taskExecStarted: EventFactory<typeof eventPayloads.TaskExecStartedSchema> = make("/tasks/exec-started", eventPayloads.TaskExecStartedSchema);
export const taskOom: EventFactory<typeof eventPayloads.TaskOOMSchema> = make("/tasks/oom", eventPayloads.TaskOOMSchema);
export const taskPaused: EventFactory<typeof eventPayloads.TaskPausedSchema> = make("/tasks/paused", eventPayloads.TaskPausedSchema);
export const taskResumed: EventFactory<typeof eventPayloads.TaskResumedSchema> = make("/tasks/resumed", eventPayloads.TaskResumedSchema);
export const taskCheckpointed: EventFactory<typeof eventPayloads.TaskCheckpointedSchema> = make("/tasks/checkpointed", eventPayloads.TaskCheckpointedSchema);
