/**
 * Dialect-neutral errors. Every layer below the dialects throws a FacekitError with one of these
 * codes; each dialect maps the code to its own error shape and status. Anything else that escapes
 * is an internal fault (500) and is logged without the request body.
 */
export const ERROR_STATUS = {
  // request shape
  MISSING_BODY: 400,
  INVALID_JSON: 400,
  INVALID_ARGUMENT: 400,
  /** A required request field other than the image is absent (Face++ api_key, Youtu appid...). */
  MISSING_ARGUMENT: 400,
  MISSING_IMAGE: 400,
  CONFLICTING_IMAGE: 400,
  INVALID_BASE64: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  // image content
  EMPTY_IMAGE: 400,
  UNSUPPORTED_FORMAT: 400,
  CORRUPT_IMAGE: 400,
  IMAGE_TOO_LARGE: 413,
  IMAGE_DIMENSIONS_TOO_LARGE: 400,
  IMAGE_TOO_SMALL: 400,
  // image sources
  INVALID_URL: 400,
  URL_FORBIDDEN: 400,
  URL_UNREACHABLE: 400,
  URL_HTTP_ERROR: 400,
  URL_TIMEOUT: 408,
  S3_BUCKET_NOT_ALLOWED: 403,
  S3_OBJECT_NOT_FOUND: 404,
  S3_ACCESS_DENIED: 403,
  S3_UNAVAILABLE: 502,
  // routing and auth
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
  // server side
  /** More analyses waiting than the queue holds: retry later (Retry-After). */
  OVERLOADED: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class FacekitError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /**
   * The request field the error is about (e.g. `api_key`, `image_file`), when known. Dialects whose
   * error codes name the parameter (Face++ `BAD_ARGUMENTS:<key>`) use it.
   */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FacekitError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    if (options?.field !== undefined) this.field = options.field;
  }
}

export function isFacekitError(value: unknown): value is FacekitError {
  return value instanceof FacekitError;
}
