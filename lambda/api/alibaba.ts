/**
 * Alibaba Cloud Content Moderation face attribute detection: `POST /green/face/detect`
 * (../shared/reference/004). JSON `{url, dataId?, bizType?}` in; `{code, msg, dataId, taskId, url,
 * extras, faces}` out, where `code` is the HTTP status.
 */
import { randomBytes } from 'node:crypto';

import { FacekitError, type ErrorCode } from '../errors.js';
import type { DetectResult, FaceAnalysis, FaceAttributes, GlassesKind } from '../vision/types.js';
import { bodyLimitsFor, parseBody, parseJson } from './body.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { argmax, largestFirst, roundTo } from './dialect-utils.js';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http.js';

/** Documented: HTTP or HTTPS only, at most 2,048 characters. */
export const ALIBABA_MAX_URL_LENGTH = 2048;
const ALLOWED_URL_PROTOCOLS = new Set(['http:', 'https:']);
/** Documented blur range 0..20 (facekit's blur is 0..1). */
const BLUR_SCALE = 20;
/** qualified: blur < 5, no sunglasses, |pitch|, |yaw|, |roll| ≤ 30 (documented rule). */
const QUALIFIED_MAX_BLUR = 5;
const QUALIFIED_MAX_ANGLE = 30;
/** Smile intensity 0..100 → 0..1. */
const SMILE_SCALE = 100;
/** A mask is reported when more likely than not. */
const MASK_PROBABILITY = 0.5;
const DECIMALS = 2;
const TASK_ID_PREFIX = 'img';
const TASK_ID_BYTES = 16;

const GLASSES_VALUES: Record<GlassesKind, string> = { none: 'None', eyeglasses: 'Wear', sunglasses: 'Sunglass' };

export interface AlibabaState {
  readonly url: string;
  readonly dataId?: string;
  readonly taskId: string;
}

function newTaskId(): string {
  return `${TASK_ID_PREFIX}${randomBytes(TASK_ID_BYTES).toString('base64url')}`;
}

function optionalString(json: Record<string, unknown>, field: string): string | undefined {
  const value = json[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FacekitError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  return value;
}

function checkUrl(url: string | undefined): string {
  if (url === undefined || url.trim() === '') throw new FacekitError('MISSING_IMAGE', 'url is required', { field: 'url' });
  const trimmed = url.trim();
  if (trimmed.length > ALIBABA_MAX_URL_LENGTH) {
    throw new FacekitError('INVALID_URL', `url is longer than ${ALIBABA_MAX_URL_LENGTH} characters`, { field: 'url' });
  }
  let protocol: string;
  try {
    protocol = new URL(trimmed).protocol;
  } catch {
    throw new FacekitError('INVALID_URL', 'url is not a valid URL', { field: 'url' });
  }
  if (!ALLOWED_URL_PROTOCOLS.has(protocol)) {
    throw new FacekitError('INVALID_URL', 'url must be an http or https URL', { field: 'url' });
  }
  return trimmed;
}

async function parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<AlibabaState>> {
  // @alicloud/pop-core's ROA client posts the JSON body without a Content-Type.
  const body = await parseBody(request, { accept: ['json'], limits: bodyLimitsFor(context.config.image), withoutContentType: 'json' });
  const json = body.kind === 'json' ? body.json : undefined;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FacekitError('INVALID_JSON', 'the JSON body must be an object');
  }
  const fields = json as Record<string, unknown>;
  const dataId = optionalString(fields, 'dataId');
  optionalString(fields, 'bizType'); // accepted for compatibility; facekit has no moderation policies
  const url = checkUrl(optionalString(fields, 'url'));
  return {
    detect: {
      image: { kind: 'url', url, field: 'url' },
      // Exactly what the response carries: smile, glasses, quality (blur + pose), respirator.
      options: { landmarks106: false, genderAge: false, attributes: new Set(['smile', 'glasses', 'blur', 'headPose', 'mask']) },
    },
    state: { url, ...(dataId !== undefined ? { dataId } : {}), taskId: newTaskId() },
  };
}

/** Documented rule; undefined when a needed value was not computed. */
export function isQualified(attributes: FaceAttributes): boolean | undefined {
  const { blur, glasses, headPose } = attributes;
  if (!blur || !glasses || !headPose) return undefined;
  const anglesOk = [headPose.pitch, headPose.yaw, headPose.roll].every((angle) => Math.abs(angle) <= QUALIFIED_MAX_ANGLE);
  return blur.value * BLUR_SCALE < QUALIFIED_MAX_BLUR && argmax(glasses).key !== 'sunglasses' && anglesOk;
}

function formatFace(face: FaceAnalysis): Record<string, unknown> {
  const attributes = face.attributes ?? {};
  const item: Record<string, unknown> = {
    location: {
      x: roundTo(face.box.x, DECIMALS),
      y: roundTo(face.box.y, DECIMALS),
      w: roundTo(face.box.width, DECIMALS),
      h: roundTo(face.box.height, DECIMALS),
    },
  };
  // smile.rate is left out: the intensity has no calibrated confidence to report.
  if (attributes.smile) item.smile = { value: roundTo(attributes.smile.value / SMILE_SCALE, DECIMALS) };
  if (attributes.glasses) {
    const { key, probability } = argmax(attributes.glasses);
    item.glasses = { value: GLASSES_VALUES[key], rate: roundTo(probability, DECIMALS) };
  }
  const quality: Record<string, number> = {};
  if (attributes.blur) quality.blur = roundTo(attributes.blur.value * BLUR_SCALE, DECIMALS);
  if (attributes.headPose) {
    quality.pitch = roundTo(attributes.headPose.pitch, DECIMALS);
    quality.yaw = roundTo(attributes.headPose.yaw, DECIMALS);
    quality.roll = roundTo(attributes.headPose.roll, DECIMALS);
  }
  if (Object.keys(quality).length > 0) item.quality = quality;
  const qualified = isQualified(attributes);
  if (qualified !== undefined) item.qualified = qualified;
  if (attributes.mask !== undefined) {
    const wearing = attributes.mask >= MASK_PROBABILITY;
    item.respirator = { value: wearing ? 'Wear' : 'None', rate: roundTo(wearing ? attributes.mask : 1 - attributes.mask, DECIMALS) };
  }
  // hat, mustache, bang, hairstyle: no honest model, left out.
  return item;
}

function format(result: DetectResult, parsed: ParsedRequest<AlibabaState>, _request: HttpRequest, context: DialectContext): HttpResponse {
  const { url, dataId, taskId } = parsed.state;
  return jsonResponse(200, {
    code: 200,
    msg: 'OK',
    requestId: context.requestId,
    ...(dataId !== undefined ? { dataId } : {}),
    taskId,
    url,
    // The documented example gives the image size as strings.
    extras: { width: String(result.width), height: String(result.height) },
    faces: largestFirst(result.faces).map(formatFace),
  });
}

/** Neutral code → HTTP status (= Alibaba `code`) and a short msg prefix. */
const ERROR_MAP: Record<ErrorCode, { status: number; msg: string }> = {
  MISSING_BODY: { status: 400, msg: 'BadRequest' },
  INVALID_JSON: { status: 400, msg: 'BadRequest' },
  INVALID_ARGUMENT: { status: 400, msg: 'InvalidParameter' },
  MISSING_ARGUMENT: { status: 400, msg: 'InvalidParameter' },
  MISSING_IMAGE: { status: 400, msg: 'InvalidParameter' },
  CONFLICTING_IMAGE: { status: 400, msg: 'InvalidParameter' },
  INVALID_BASE64: { status: 400, msg: 'BadFormat' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, msg: 'UnsupportedMediaType' },
  PAYLOAD_TOO_LARGE: { status: 413, msg: 'TooLarge' },
  EMPTY_IMAGE: { status: 400, msg: 'BadFormat' },
  UNSUPPORTED_FORMAT: { status: 400, msg: 'BadFormat' },
  CORRUPT_IMAGE: { status: 400, msg: 'BadFormat' },
  IMAGE_TOO_LARGE: { status: 413, msg: 'TooLarge' },
  IMAGE_DIMENSIONS_TOO_LARGE: { status: 400, msg: 'TooLarge' },
  IMAGE_TOO_SMALL: { status: 400, msg: 'BadFormat' },
  INVALID_URL: { status: 400, msg: 'InvalidParameter' },
  URL_FORBIDDEN: { status: 403, msg: 'Forbidden' },
  URL_UNREACHABLE: { status: 400, msg: 'DownloadFailed' },
  URL_HTTP_ERROR: { status: 400, msg: 'DownloadFailed' },
  URL_TIMEOUT: { status: 408, msg: 'DownloadTimeout' },
  S3_BUCKET_NOT_ALLOWED: { status: 403, msg: 'Forbidden' },
  S3_OBJECT_NOT_FOUND: { status: 404, msg: 'NotFound' },
  S3_ACCESS_DENIED: { status: 403, msg: 'Forbidden' },
  S3_UNAVAILABLE: { status: 502, msg: 'DownloadFailed' },
  NOT_FOUND: { status: 404, msg: 'NotFound' },
  METHOD_NOT_ALLOWED: { status: 405, msg: 'MethodNotAllowed' },
  UNAUTHORIZED: { status: 401, msg: 'Unauthorized' },
  OVERLOADED: { status: 503, msg: 'Throttling: too many requests in progress, retry later' },
  INTERNAL_ERROR: { status: 500, msg: 'InternalError' },
};

/** Echo dataId and url when the body still parses (formatError only sees the raw request). */
function echoedFields(request: HttpRequest): { dataId?: string; url?: string } {
  try {
    const json = parseJson(request.body);
    if (typeof json !== 'object' || json === null) return {};
    const { dataId, url } = json as Record<string, unknown>;
    return {
      ...(typeof dataId === 'string' ? { dataId } : {}),
      ...(typeof url === 'string' ? { url } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The documented `code`/`msg`, plus what Alibaba's gateway errors carry and pop-core reads
 * (`Code`, `Message`, `RequestId`: its ROA client throws `${Message}, requestid: ${RequestId}` with
 * `err.code = Code`), plus `requestId` as on every answer.
 */
function formatError(error: FacekitError, request: HttpRequest, context: DialectContext): HttpResponse {
  const { status, msg } = ERROR_MAP[error.code] ?? ERROR_MAP.INTERNAL_ERROR;
  const { dataId, url } = echoedFields(request);
  const message = `${msg}: ${error.message}`;
  return jsonResponse(status, {
    code: status,
    msg: message,
    requestId: context.requestId,
    Code: msg.split(':')[0],
    Message: message,
    RequestId: context.requestId,
    ...(dataId !== undefined ? { dataId } : {}),
    taskId: newTaskId(),
    ...(url !== undefined ? { url } : {}),
  });
}

export const alibabaDialect: Dialect<AlibabaState> = {
  name: 'alibaba',
  parse,
  format,
  formatError,
};
