/**
 * Tencent Youtu `face/detect` dialect: `POST /face/detect` (../shared/reference/003 and its English
 * notes in README.md). JSON `{appid, mode, url}` or multipart `image` (+ appid, mode); `url` wins
 * when both are given. Body `{data, code, message}`; errors `{code, message}`.
 */
import { FacekitError, type ErrorCode } from '../errors.js';
import type { ImageInput } from '../image/types.js';
import type { DetectResult, FaceAnalysis, FaceAttributes } from '../vision/types.js';
import { bodyLimitsFor, parseBody } from './body.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { clamp, largestFirst, randomDigits, roundInt, roundTo } from './dialect-utils.js';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http.js';

/** mode: 0 = all faces, 1 = the largest face only. */
const MODE_ALL_FACES = 0;
const MODE_LARGEST_FACE = 1;
/** Documented ranges of the integer fields. */
const PITCH_YAW_LIMIT = 30;
const ROLL_LIMIT = 180;
const AGE_MAX = 100;
/** gender 0 (female) .. 100 (male); expression 0 (normal) / 50 (smile) / 100 (laugh). */
const PERCENT_SCALE = 100;
const EXPRESSION_SMILE = 50;
/** Width and height are floats; two decimals is finer than any detector's box. */
const SIZE_DECIMALS = 2;
/** Youtu face ids are 19-digit decimal strings. */
const FACE_ID_DIGITS = 19;
/** "glass": eyeglasses or sunglasses more likely than not. */
const GLASSES_PROBABILITY = 0.5;

export interface YoutuState {
  readonly mode: number;
}

function parseMode(raw: unknown): number {
  if (raw === undefined || raw === null || raw === '') return MODE_ALL_FACES;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (value !== MODE_ALL_FACES && value !== MODE_LARGEST_FACE) {
    throw new FacekitError('INVALID_ARGUMENT', 'mode must be 0 (all faces) or 1 (largest face)', { field: 'mode' });
  }
  return value;
}

function requireAppid(raw: unknown): void {
  if (raw === undefined || raw === null || raw === '') {
    throw new FacekitError('MISSING_ARGUMENT', 'appid is required', { field: 'appid' });
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new FacekitError('INVALID_ARGUMENT', 'appid must be a string', { field: 'appid' });
  }
}

function urlInput(raw: unknown): ImageInput | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new FacekitError('INVALID_ARGUMENT', 'url must be a string', { field: 'url' });
  return { kind: 'url', url: raw.trim(), field: 'url' };
}

const MISSING_IMAGE_MESSAGE = 'send url (application/json) or image (multipart/form-data)';

async function parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<YoutuState>> {
  const body = await parseBody(request, {
    accept: ['json', 'multipart'],
    limits: bodyLimitsFor(context.config.image),
    binaryFields: ['image'],
  });
  let appid: unknown;
  let modeValue: unknown;
  let image: ImageInput | undefined;
  if (body.kind === 'json') {
    if (typeof body.json !== 'object' || body.json === null || Array.isArray(body.json)) {
      throw new FacekitError('INVALID_JSON', 'the JSON body must be an object');
    }
    const json = body.json as Record<string, unknown>;
    ({ appid, mode: modeValue } = json);
    image = urlInput(json.url);
  } else {
    ({ appid, mode: modeValue } = body.fields);
    // Documented: if both url and image are given, only url is used.
    image = urlInput(body.fields.url);
    const file = body.files.image;
    if (!image && file) image = { kind: 'bytes', bytes: file.bytes, field: 'image' };
  }
  requireAppid(appid);
  const mode = parseMode(modeValue);
  if (!image) throw new FacekitError('MISSING_IMAGE', MISSING_IMAGE_MESSAGE, { field: 'image' });
  return {
    detect: {
      image,
      options: {
        ...(mode === MODE_LARGEST_FACE ? { maxFaces: 1 } : {}),
        landmarks106: false,
        genderAge: true,
        attributes: new Set(['smile', 'glasses', 'headPose']),
      },
    },
    state: { mode },
  };
}

/**
 * Youtu's expression is one scale, 0 normal / 50 smile / 100 laugh; facekit's smile is an intensity
 * 0..100 with a threshold above which a smile is asserted. Piecewise linear so the threshold lands
 * on 50: [0, threshold] → [0, 50], [threshold, 100] → [50, 100].
 */
export function expressionFromSmile(smile: NonNullable<FaceAttributes['smile']>): number {
  const value = clamp(smile.value, 0, PERCENT_SCALE);
  const threshold = clamp(smile.threshold, 1, PERCENT_SCALE - 1);
  const expression =
    value <= threshold
      ? (value / threshold) * EXPRESSION_SMILE
      : EXPRESSION_SMILE + ((value - threshold) / (PERCENT_SCALE - threshold)) * (PERCENT_SCALE - EXPRESSION_SMILE);
  return roundInt(expression);
}

function formatFace(face: FaceAnalysis): Record<string, unknown> {
  const item: Record<string, unknown> = {
    face_id: randomDigits(FACE_ID_DIGITS),
    x: roundInt(face.box.x),
    y: roundInt(face.box.y),
    width: roundTo(face.box.width, SIZE_DECIMALS),
    height: roundTo(face.box.height, SIZE_DECIMALS),
  };
  if (face.gender) item.gender = roundInt(face.gender.maleProbability * PERCENT_SCALE);
  if (face.age !== undefined) item.age = roundInt(clamp(face.age, 0, AGE_MAX));
  const attributes = face.attributes ?? {};
  if (attributes.smile) item.expression = expressionFromSmile(attributes.smile);
  if (attributes.glasses) item.glass = attributes.glasses.eyeglasses + attributes.glasses.sunglasses > GLASSES_PROBABILITY;
  if (attributes.headPose) {
    item.pitch = roundInt(clamp(attributes.headPose.pitch, -PITCH_YAW_LIMIT, PITCH_YAW_LIMIT));
    item.yaw = roundInt(clamp(attributes.headPose.yaw, -PITCH_YAW_LIMIT, PITCH_YAW_LIMIT));
    item.roll = roundInt(clamp(attributes.headPose.roll, -ROLL_LIMIT, ROLL_LIMIT));
  }
  // beauty: no honest model, left out.
  return item;
}

/** Detection found no face: Youtu's "-1101 face detection failed" (see docs/api.md). */
export const YOUTU_NO_FACE_CODE = -1101;

function format(result: DetectResult, parsed: ParsedRequest<YoutuState>, _request: HttpRequest, context: DialectContext): HttpResponse {
  const faces = largestFirst(result.faces);
  if (faces.length === 0) {
    return jsonResponse(200, { code: YOUTU_NO_FACE_CODE, message: 'face detection failed: no face found in the image' });
  }
  const selected = parsed.state.mode === MODE_LARGEST_FACE ? faces.slice(0, 1) : faces;
  return jsonResponse(200, {
    data: {
      session_id: context.requestId,
      image_width: result.width,
      image_height: result.height,
      face: selected.map(formatFace),
    },
    code: 0,
    message: 'OK',
  });
}

const INVALID_PARAMETER = { status: 400, code: 21 };
const BODY_TOO_LARGE = { status: 413, code: 23 };
const DECODE_FAILED = { status: 400, code: -1102 };
const IMAGE_EMPTY = { status: 400, code: -1300 };
const PARAMETER_EMPTY = { status: 400, code: -1301 };
const URL_DOWNLOAD_FAILED = { status: 400, code: -1308 };
const ILLEGAL_FORMAT = { status: 400, code: -1400 };

/** Neutral code → Youtu code and HTTP status (client errors 4xx, see docs/api.md). */
const ERROR_MAP: Record<ErrorCode, { status: number; code: number }> = {
  MISSING_BODY: PARAMETER_EMPTY,
  INVALID_JSON: INVALID_PARAMETER,
  INVALID_ARGUMENT: INVALID_PARAMETER,
  MISSING_ARGUMENT: PARAMETER_EMPTY,
  MISSING_IMAGE: IMAGE_EMPTY,
  CONFLICTING_IMAGE: INVALID_PARAMETER,
  INVALID_BASE64: DECODE_FAILED,
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 21 },
  PAYLOAD_TOO_LARGE: BODY_TOO_LARGE,
  EMPTY_IMAGE: IMAGE_EMPTY,
  UNSUPPORTED_FORMAT: ILLEGAL_FORMAT,
  CORRUPT_IMAGE: DECODE_FAILED,
  IMAGE_TOO_LARGE: BODY_TOO_LARGE,
  IMAGE_DIMENSIONS_TOO_LARGE: ILLEGAL_FORMAT,
  IMAGE_TOO_SMALL: ILLEGAL_FORMAT,
  INVALID_URL: INVALID_PARAMETER,
  URL_FORBIDDEN: URL_DOWNLOAD_FAILED,
  URL_UNREACHABLE: URL_DOWNLOAD_FAILED,
  URL_HTTP_ERROR: URL_DOWNLOAD_FAILED,
  URL_TIMEOUT: { status: 408, code: -1403 },
  S3_BUCKET_NOT_ALLOWED: URL_DOWNLOAD_FAILED,
  S3_OBJECT_NOT_FOUND: URL_DOWNLOAD_FAILED,
  S3_ACCESS_DENIED: URL_DOWNLOAD_FAILED,
  S3_UNAVAILABLE: { status: 502, code: -1403 },
  NOT_FOUND: { status: 404, code: 3 },
  METHOD_NOT_ALLOWED: { status: 405, code: 3 },
  UNAUTHORIZED: { status: 401, code: 14 },
  // 15: "操作太频繁，触发频控" (too frequent, rate limited).
  OVERLOADED: { status: 503, code: 15 },
  INTERNAL_ERROR: { status: 500, code: 213 },
};

function formatError(error: FacekitError): HttpResponse {
  const { status, code } = ERROR_MAP[error.code] ?? ERROR_MAP.INTERNAL_ERROR;
  return jsonResponse(status, { code, message: error.message });
}

export const youtuDialect: Dialect<YoutuState> = {
  name: 'youtu',
  parse,
  format,
  formatError,
};
