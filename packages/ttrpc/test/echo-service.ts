// A small service compiled inline for the tests: one method of each kind over one message type.
import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
import type { GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

export type Msg = Message<"berth.ttrpc.test.Msg"> & { text: string; n: bigint; blob: Uint8Array };

const field = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
  name,
  number,
  type,
  jsonName: name,
  label: FieldDescriptorProto_Label.OPTIONAL,
});
const method = (name: string, clientStreaming: boolean, serverStreaming: boolean) => ({
  name,
  inputType: ".berth.ttrpc.test.Msg",
  outputType: ".berth.ttrpc.test.Msg",
  clientStreaming,
  serverStreaming,
});

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "berth/ttrpc/test/echo.proto",
    package: "berth.ttrpc.test",
    syntax: "proto3",
    messageType: [
      {
        name: "Msg",
        field: [
          field("text", 1, FieldDescriptorProto_Type.STRING),
          field("n", 2, FieldDescriptorProto_Type.INT64),
          field("blob", 3, FieldDescriptorProto_Type.BYTES),
        ],
      },
    ],
    service: [
      {
        name: "Echo",
        method: [method("Say", false, false), method("Count", false, true), method("Sum", true, false), method("Chat", true, true)],
      },
    ],
  }),
  () => undefined,
);

export const MsgSchema = registry.getMessage("berth.ttrpc.test.Msg") as GenMessage<Msg>;

type Kind<K extends string> = { methodKind: K; input: typeof MsgSchema; output: typeof MsgSchema };
export const Echo = registry.getService("berth.ttrpc.test.Echo") as GenService<{
  say: Kind<"unary">;
  count: Kind<"server_streaming">;
  sum: Kind<"client_streaming">;
  chat: Kind<"bidi_streaming">;
}>;
