/**
 * The error stream's payload. v4+ clients (client-go's errorDecoderV4) read one JSON
 * metav1.Status: Success, or Failure with reason NonZeroExitCode and an ExitCode cause whose
 * message is the decimal exit code (0–255), or any other Failure whose message becomes the error.
 * Older protocols get only the message text, and nothing on success.
 */
export interface K8sStatus {
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

export function successStatus(): K8sStatus {
  return { metadata: {}, status: "Success" };
}

export function exitCodeStatus(exitCode: number): K8sStatus {
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

export function internalErrorStatus(message: string): K8sStatus {
  return {
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The bytes to write on the error stream, or undefined when there is nothing to write. */
export function encodeStatus(status: K8sStatus, json: boolean): Buffer | undefined {
  if (json) return Buffer.from(JSON.stringify(status));
  if (status.status === "Success") return undefined;
  return Buffer.from(status.message ?? "unknown error");
}
