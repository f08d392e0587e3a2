import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * containerd.task.v2.DeleteResponse { pid = 1; exit_status = 2; exited_at = 3 (Timestamp) },
 * written by hand: `delete` is on the path of every task deletion (containerd waits for it when
 * a shim's connection closes) and must not pay for loading the whole generated API.
 */
export function encodeDeleteResponse(pid: number, exitStatus: number, exitedAt: Date): Uint8Array {
  const ms = exitedAt.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const writer = new BinaryWriter();
  if (pid !== 0) writer.tag(1, WireType.Varint).uint32(pid);
  if (exitStatus !== 0) writer.tag(2, WireType.Varint).uint32(exitStatus);
  writer.tag(3, WireType.LengthDelimited).fork();
  if (seconds !== 0) writer.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) writer.tag(2, WireType.Varint).int32(nanos);
  writer.join();
  return writer.finish();
}
