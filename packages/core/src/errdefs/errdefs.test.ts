import { describe, expect, it } from "vitest";
import {
  BerthError,
  canceled,
  classOf,
  conflict,
  dataLoss,
  failedPrecondition,
  invalidArgument,
  isBerthError,
  isCanceled,
  isFailedPrecondition,
  isNotFound,
  notFound,
  notModified,
  unknown as unknownError,
  type ErrorClass,
} from "./errdefs.js";
import { fromGrpcStatus, GrpcCode, toGrpcStatus } from "./grpc-status.js";

const ALL_CLASSES: readonly ErrorClass[] = [
  "Unknown",
  "InvalidArgument",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Conflict",
  "NotModified",
  "Aborted",
  "OutOfRange",
  "NotImplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
  "Canceled",
  "DeadlineExceeded",
];

describe("gRPC status mapping", () => {
  it.each(ALL_CLASSES)("round-trips %s through a gRPC status as containerd does", (cls) => {
    const status = toGrpcStatus(new BerthError(cls, `a ${cls} error`));
    expect(status.details).toBe(`a ${cls} error`);
    const back = fromGrpcStatus(status.code, status.details);
    expect(back).toBeInstanceOf(BerthError);
    expect(back.message).toBe(`a ${cls} error`);
    const expected: ErrorClass = cls === "Conflict" || cls === "NotModified" ? "FailedPrecondition" : cls;
    expect(back.errClass).toBe(expected);
  });

  it("uses gRPC's numeric codes", () => {
    const codeOf = (cls: ErrorClass) => toGrpcStatus(new BerthError(cls, "x")).code;
    expect(codeOf("Canceled")).toBe(1);
    expect(codeOf("Unknown")).toBe(2);
    expect(codeOf("InvalidArgument")).toBe(3);
    expect(codeOf("DeadlineExceeded")).toBe(4);
    expect(codeOf("NotFound")).toBe(5);
    expect(codeOf("AlreadyExists")).toBe(6);
    expect(codeOf("PermissionDenied")).toBe(7);
    expect(codeOf("ResourceExhausted")).toBe(8);
    expect(codeOf("FailedPrecondition")).toBe(9);
    expect(codeOf("Conflict")).toBe(9);
    expect(codeOf("NotModified")).toBe(9);
    expect(codeOf("Aborted")).toBe(10);
    expect(codeOf("OutOfRange")).toBe(11);
    expect(codeOf("NotImplemented")).toBe(12);
    expect(codeOf("Internal")).toBe(13);
    expect(codeOf("Unavailable")).toBe(14);
    expect(codeOf("DataLoss")).toBe(15);
    expect(codeOf("Unauthenticated")).toBe(16);
    expect(GrpcCode).toMatchObject({ OK: 0, NotFound: 5, AlreadyExists: 6, FailedPrecondition: 9, Unimplemented: 12, Unavailable: 14 });
  });

  it("maps every non-OK gRPC code to a distinct class, and unknown codes to Unknown", () => {
    const classes = new Set<ErrorClass>();
    for (let code = 1; code <= 16; code++) classes.add(fromGrpcStatus(code, "x").errClass);
    expect(classes.size).toBe(16);
    expect(fromGrpcStatus(99, "from the future").errClass).toBe("Unknown");
    expect(fromGrpcStatus(GrpcCode.Unimplemented, "x").errClass).toBe("NotImplemented");
  });

  it("sends non-Berth errors as Unknown, an AbortError as Canceled, and keeps the cause", () => {
    expect(toGrpcStatus(new Error("boom"))).toEqual({ code: GrpcCode.Unknown, details: "boom" });
    expect(toGrpcStatus("just a string")).toEqual({ code: GrpcCode.Unknown, details: "just a string" });
    expect(toGrpcStatus(AbortSignal.abort().reason).code).toBe(GrpcCode.Canceled);
    expect(toGrpcStatus(new Error("wrapped", { cause: notFound("no such image") })).code).toBe(GrpcCode.NotFound);
    const cause = new Error("transport");
    expect(fromGrpcStatus(GrpcCode.Unavailable, "down", cause).cause).toBe(cause);
  });
});

describe("classOf", () => {
  it("returns a BerthError's own class", () => {
    for (const cls of ALL_CLASSES) expect(classOf(new BerthError(cls, "x"))).toBe(cls);
    expect(classOf(conflict("x"))).toBe("Conflict");
    expect(classOf(notModified("x"))).toBe("NotModified");
    expect(classOf(dataLoss("x"))).toBe("DataLoss");
  });

  it("walks cause chains to the first BerthError", () => {
    const deep = new Error("outer", { cause: new Error("middle", { cause: new TypeError("inner", { cause: notFound("gone") }) }) });
    expect(classOf(deep)).toBe("NotFound");
    expect(isNotFound(deep)).toBe(true);
    // The outermost BerthError wins over its causes.
    expect(classOf(invalidArgument("bad", notFound("gone")))).toBe("InvalidArgument");
    expect(classOf(new Error("outer", { cause: failedPrecondition("x", notFound("y")) }))).toBe("FailedPrecondition");
  });

  it("treats an AbortError anywhere in the chain as Canceled", () => {
    const abortError = Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
    expect(classOf(abortError)).toBe("Canceled");
    expect(classOf(AbortSignal.abort().reason)).toBe("Canceled");
    expect(classOf(new Error("wrapped", { cause: abortError }))).toBe("Canceled");
    expect(isCanceled(new Error("wrapped", { cause: AbortSignal.abort().reason }))).toBe(true);
    expect(classOf(canceled("x"))).toBe("Canceled");
  });

  it("gives Unknown for plain errors and non-errors", () => {
    expect(classOf(new Error("plain"))).toBe("Unknown");
    expect(classOf(new TypeError("plain", { cause: new Error("also plain") }))).toBe("Unknown");
    expect(classOf("a string")).toBe("Unknown");
    expect(classOf(undefined)).toBe("Unknown");
    expect(classOf(null)).toBe("Unknown");
    expect(classOf({ errClass: "NotFound" })).toBe("Unknown");
    expect(isFailedPrecondition(new Error("x"))).toBe(false);
  });

  it("stops on a cause cycle", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(classOf(a)).toBe("Unknown");
  });
});

describe("BerthError identity", () => {
  const BRAND = Symbol.for("berth.errdefs.v1");

  it("recognises an error branded by another copy of core", () => {
    // What a second copy's BerthError looks like: a different class with the same global brand.
    class OtherCopyError extends Error {
      readonly [BRAND] = true;
      constructor(
        readonly errClass: ErrorClass,
        message: string,
      ) {
        super(message);
      }
    }
    const foreign = new OtherCopyError("NotFound", "no such container");
    expect(foreign instanceof BerthError).toBe(true);
    expect(isBerthError(foreign)).toBe(true);
    expect(classOf(foreign)).toBe("NotFound");
    expect(classOf(new Error("wrapped", { cause: foreign }))).toBe("NotFound");
    expect(toGrpcStatus(foreign).code).toBe(GrpcCode.NotFound);

    const plainBranded = { [BRAND]: true, errClass: "AlreadyExists", message: "exists" };
    expect(plainBranded instanceof BerthError).toBe(true);
    expect(classOf(plainBranded)).toBe("AlreadyExists");
  });

  it("does not recognise unbranded or wrongly branded values", () => {
    expect(new Error("x") instanceof BerthError).toBe(false);
    expect({ [Symbol("berth.errdefs.v1")]: true } instanceof BerthError).toBe(false);
    expect({ [BRAND]: "yes" } instanceof BerthError).toBe(false);
    expect(isBerthError(null)).toBe(false);
    expect(isBerthError("BerthError")).toBe(false);
  });

  it("is an Error with a class, message and cause", () => {
    const cause = new Error("root cause");
    const err = unknownError("wrapped", cause);
    expect(err).toBeInstanceOf(Error);
    expect(err.errClass).toBe("Unknown");
    expect(err.message).toBe("wrapped");
    expect(err.cause).toBe(cause);
    expect(err.name).toBe("BerthError");
    expect(notFound("x").cause).toBeUndefined();
  });
});
