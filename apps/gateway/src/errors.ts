import { ERROR_HTTP_STATUS, type ErrorCode } from "@portal/contracts";

/** The one error class route code throws; `onError` renders it as a failed envelope. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_HTTP_STATUS[code];
  }
}

/** A compressed request body (Content-Encoding): refused with a clear reason, never misread. */
export function refuseEncodedBody(encoding: string): never {
  throw new ApiError(
    "invalid_request",
    `Content-Encoding "${encoding.slice(0, 40)}" is not supported on request bodies; send the body uncompressed.`,
    { content_encoding: encoding.slice(0, 40) },
  );
}
