/**
 * Face++ Detect API v3 dialect: `POST /facepp/v3/detect` (../shared/reference/001).
 * multipart/form-data or urlencoded in; the Face++ JSON body and `error_message` codes out.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { FacekitError, type ErrorCode } from '../errors.js';
import type { ImageInput } from '../image/types.js';
import type {
  AttributeName,
  Box,
  DetectOptions,
  DetectResult,
  EyeStatus,
  FaceAnalysis,
  FaceAttributes,
} from '../vision/types.js';
import { bodyLimitsFor, parseBody } from './body.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { elapsedMs, largestFirst, randomHex, RequestNotes, roundInt, roundTo, toPercentages } from './dialect-utils.js';
import { faceppLandmarks, type LandmarkLevel } from './facepp-landmarks.js';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http.js';

/** Without calculate_all=1 only the 5 largest faces get landmarks and attributes (Face++ doc). */
export const FACEPP_ANALYZED_FACES = 5;
/** Face++'s documented smallest face: max(48 px, short side / 48). */
const FACEPP_MIN_FACE_PX = 48;
const FACEPP_MIN_FACE_SHORT_SIDE_DIVISOR = 48;
/** Most values are "floating-point numbers with 3 decimal places"; head pose has 6. */
const VALUE_DECIMALS = 3;
const HEADPOSE_DECIMALS = 6;
/** As the documented sample error lists them ("MISSING_ARGUMENTS: image_url, image_file, image_base64"). */
const IMAGE_FIELDS = ['image_url', 'image_file', 'image_base64'] as const;
/** face_token: 32 hex characters; image_id: 16 bytes in base64, like Face++'s. */
const FACE_TOKEN_BYTES = 16;
const IMAGE_ID_BYTES = 16;

/** return_attributes names → what the pipeline must compute. beauty/skinstatus: no honest model. */
const ATTRIBUTE_REQUIREMENTS: Readonly<Record<string, { genderAge?: true; attribute?: AttributeName }>> = {
  gender: { genderAge: true },
  age: { genderAge: true },
  smiling: { attribute: 'smile' },
  headpose: { attribute: 'headPose' },
  facequality: { attribute: 'quality' },
  blur: { attribute: 'blur' },
  eyestatus: { attribute: 'eyeStatus' },
  emotion: { attribute: 'emotion' },
  mouthstatus: { attribute: 'mouthStatus' },
  eyegaze: { attribute: 'eyeGaze' },
  beauty: {},
  skinstatus: {},
};
/** Accepted (documented) but never returned: facekit has no model for them. */
export const FACEPP_UNSUPPORTED_ATTRIBUTES = ['beauty', 'skinstatus'] as const;

export interface FaceppState {
  readonly landmarkLevel?: LandmarkLevel;
  /** Requested return_attributes names, in request order, without duplicates. */
  readonly attributes: readonly string[];
}


/** The image field chosen by parse, for `<param>` in image error codes. */
const imageFieldNotes = new RequestNotes<string>();

function badArgument(field: string, message: string): FacekitError {
  return new FacekitError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

function parseChoice<T>(fields: Readonly<Record<string, string>>, field: string, choices: Readonly<Record<string, T>>, fallback: T): T {
  const raw = fields[field]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!Object.hasOwn(choices, raw)) throw badArgument(field, `expected one of ${Object.keys(choices).join(', ')}`);
  return choices[raw]!;
}

function parseReturnAttributes(raw: string | undefined): string[] {
  const value = raw?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'none') return [];
  const names = value.split(',').map((name) => name.trim().toLowerCase());
  for (const name of names) {
    if (!Object.hasOwn(ATTRIBUTE_REQUIREMENTS, name)) {
      throw badArgument('return_attributes', `unknown attribute "${name}"`);
    }
  }
  return [...new Set(names)];
}

const FACE_RECTANGLE_PATTERN = /^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$/;

/** "top,left,width,height" in integer pixels → a detection region. */
export function parseFaceRectangle(raw: string | undefined): Box | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const match = FACE_RECTANGLE_PATTERN.exec(raw);
  if (!match) throw badArgument('face_rectangle', 'expected four integers "top,left,width,height"');
  const [top, left, width, height] = match.slice(1).map(Number) as [number, number, number, number];
  if (width <= 0 || height <= 0) throw badArgument('face_rectangle', 'width and height must be positive');
  return { x: left, y: top, width, height };
}

function checkCredentials(fields: Readonly<Record<string, string>>, context: DialectContext): void {
  for (const field of ['api_key', 'api_secret']) {
    if (!fields[field]) throw new FacekitError('MISSING_ARGUMENT', `${field} is required`, { field });
  }
  const expected = context.config.faceppCredentials;
  if (expected && (fields.api_key !== expected.apiKey || fields.api_secret !== expected.apiSecret)) {
    throw new FacekitError('UNAUTHORIZED', 'api_key and api_secret do not match');
  }
}

function imageInput(fields: Readonly<Record<string, string>>, files: Readonly<Record<string, { bytes: Buffer }>>): ImageInput {
  // Documented precedence: image_file, then image_base64, then image_url.
  const file = files.image_file;
  if (file) return { kind: 'bytes', bytes: file.bytes, field: 'image_file' };
  if (fields.image_base64) return { kind: 'base64', base64: fields.image_base64, field: 'image_base64' };
  if (fields.image_url) return { kind: 'url', url: fields.image_url.trim(), field: 'image_url' };
  throw new FacekitError('MISSING_IMAGE', 'one of image_file, image_base64, image_url is required', {
    field: IMAGE_FIELDS.join(', '),
  });
}

async function parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<FaceppState>> {
  const body = await parseBody(request, {
    accept: ['multipart', 'urlencoded'],
    limits: bodyLimitsFor(context.config.image),
    binaryFields: ['image_file'],
  });
  if (body.kind === 'json') throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies are not accepted');
  const { fields, files } = body;
  checkCredentials(fields, context);

  const landmarkLevel = parseChoice<LandmarkLevel | undefined>(fields, 'return_landmark', { '0': undefined, '1': 83, '2': 106 }, undefined);
  const attributeNames = parseReturnAttributes(fields.return_attributes);
  const calculateAll = parseChoice(fields, 'calculate_all', { '0': false, '1': true }, false);
  const region = parseFaceRectangle(fields.face_rectangle);
  const image = imageInput(fields, files);
  imageFieldNotes.set(request, image.field);

  const pipelineAttributes = new Set<AttributeName>();
  let genderAge = false;
  for (const name of attributeNames) {
    const requirement = ATTRIBUTE_REQUIREMENTS[name]!;
    if (requirement.genderAge) genderAge = true;
    if (requirement.attribute) pipelineAttributes.add(requirement.attribute);
  }
  const options: DetectOptions = {
    landmarks106: landmarkLevel !== undefined,
    genderAge,
    attributes: pipelineAttributes,
    ...(calculateAll ? {} : { analyzeLargest: FACEPP_ANALYZED_FACES }),
    ...(region ? { givenFaces: [region] } : {}),
    // Face++ Detect v3: a face's square side is "no less than 1/48 of the short side of image,
    // and no less than 48 pixels": smaller faces are never returned.
    minFaceSize: FACEPP_MIN_FACE_PX,
    minFaceShortSideFraction: 1 / FACEPP_MIN_FACE_SHORT_SIDE_DIVISOR,
  };
  return {
    detect: { image, options },
    state: { ...(landmarkLevel ? { landmarkLevel } : {}), attributes: attributeNames },
  };
}

// ---------------------------------------------------------------- response

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "<unix seconds>,<uuid>", reusing the router's request id when it is a UUID (same id as the logs). */
function faceppRequestId(context: DialectContext): string {
  const uuid = UUID_PATTERN.test(context.requestId) ? context.requestId : randomUUID();
  return `${Math.floor(context.receivedAt / 1000)},${uuid}`;
}

const value3 = (value: number): number => roundTo(value, VALUE_DECIMALS);

/** The six eye-status probabilities from eye state × glasses: dark glasses hide the eye state. */
function eyeStatusPercentages(eye: EyeStatus): Record<string, number> {
  const { open, closed, occluded } = eye.state;
  const { none, eyeglasses, sunglasses } = eye.glasses;
  const clearGlassMass = none + eyeglasses;
  const noGlassShare = clearGlassMass > 0 ? none / clearGlassMass : 1;
  const visible = 1 - sunglasses;
  const names = [
    'occlusion',
    'no_glass_eye_open',
    'normal_glass_eye_close',
    'normal_glass_eye_open',
    'dark_glasses',
    'no_glass_eye_close',
  ];
  const weights = [
    visible * occluded,
    visible * open * noGlassShare,
    visible * closed * (1 - noGlassShare),
    visible * open * (1 - noGlassShare),
    sunglasses,
    visible * closed * noGlassShare,
  ];
  const percentages = toPercentages(weights, VALUE_DECIMALS);
  return Object.fromEntries(names.map((name, i) => [name, percentages[i]!]));
}

function namedPercentages<K extends string>(distribution: Readonly<Record<K, number>>, names: ReadonlyArray<readonly [string, K]>): Record<string, number> {
  const percentages = toPercentages(names.map(([, key]) => distribution[key]), VALUE_DECIMALS);
  return Object.fromEntries(names.map(([name], i) => [name, percentages[i]!]));
}

const EMOTION_NAMES = [
  ['anger', 'angry'],
  ['disgust', 'disgust'],
  ['fear', 'fear'],
  ['happiness', 'happy'],
  ['neutral', 'neutral'],
  ['sadness', 'sad'],
  ['surprise', 'surprise'],
] as const;

const MOUTH_NAMES = [
  ['surgical_mask_or_respirator', 'mask'],
  ['other_occlusion', 'occluded'],
  ['close', 'closed'],
  ['open', 'open'],
] as const;

/** Gaze: pupil position as a fraction of the face rectangle, direction vector as given. */
function eyeGaze(gaze: NonNullable<FaceAttributes['eyeGaze']>['left'], box: Box): Record<string, number> {
  return {
    position_x_coordinate: value3((gaze.position.x - box.x) / box.width),
    position_y_coordinate: value3((gaze.position.y - box.y) / box.height),
    vector_x_component: value3(gaze.vector.x),
    vector_y_component: value3(gaze.vector.y),
    vector_z_component: value3(gaze.vector.z),
  };
}

/** The requested attributes this face has; absent values (not computed) are left out. */
function formatAttributes(face: FaceAnalysis, requested: readonly string[]): Record<string, unknown> {
  const attributes = face.attributes ?? {};
  const out: Record<string, unknown> = {};
  for (const name of requested) {
    switch (name) {
      case 'gender':
        if (face.gender) out.gender = { value: face.gender.value === 'male' ? 'Male' : 'Female' };
        break;
      case 'age':
        if (face.age !== undefined) out.age = { value: roundInt(face.age) };
        break;
      case 'smiling':
        if (attributes.smile) out.smile = { value: value3(attributes.smile.value), threshold: value3(attributes.smile.threshold) };
        break;
      case 'headpose':
        if (attributes.headPose) {
          out.headpose = {
            pitch_angle: roundTo(attributes.headPose.pitch, HEADPOSE_DECIMALS),
            roll_angle: roundTo(attributes.headPose.roll, HEADPOSE_DECIMALS),
            yaw_angle: roundTo(attributes.headPose.yaw, HEADPOSE_DECIMALS),
          };
        }
        break;
      case 'blur':
        // One blur measure (not split into motion/gaussian), so only `blurness` is returned.
        if (attributes.blur) {
          out.blur = { blurness: { value: value3(attributes.blur.value * 100), threshold: value3(attributes.blur.threshold * 100) } };
        }
        break;
      case 'facequality':
        if (attributes.quality) {
          out.facequality = { value: value3(attributes.quality.value), threshold: value3(attributes.quality.threshold) };
        }
        break;
      case 'eyestatus':
        if (attributes.eyeStatus) {
          out.eyestatus = {
            left_eye_status: eyeStatusPercentages(attributes.eyeStatus.left),
            right_eye_status: eyeStatusPercentages(attributes.eyeStatus.right),
          };
        }
        break;
      case 'emotion':
        if (attributes.emotion) out.emotion = namedPercentages(attributes.emotion, EMOTION_NAMES);
        break;
      case 'mouthstatus':
        if (attributes.mouthStatus) out.mouthstatus = namedPercentages(attributes.mouthStatus, MOUTH_NAMES);
        break;
      case 'eyegaze':
        if (attributes.eyeGaze) {
          out.eyegaze = {
            left_eye_gaze: eyeGaze(attributes.eyeGaze.left, face.box),
            right_eye_gaze: eyeGaze(attributes.eyeGaze.right, face.box),
          };
        }
        break;
      // beauty, skinstatus: accepted but never returned (no honest model).
    }
  }
  return out;
}

function formatFace(face: FaceAnalysis, state: FaceppState): Record<string, unknown> {
  const formatted: Record<string, unknown> = {
    face_token: randomHex(FACE_TOKEN_BYTES),
    face_rectangle: {
      top: roundInt(face.box.y),
      left: roundInt(face.box.x),
      width: roundInt(face.box.width),
      height: roundInt(face.box.height),
    },
  };
  if (state.landmarkLevel && face.landmarks106) formatted.landmark = faceppLandmarks(face.landmarks106, state.landmarkLevel);
  if (state.attributes.length > 0) {
    const attributes = formatAttributes(face, state.attributes);
    if (Object.keys(attributes).length > 0) formatted.attributes = attributes;
  }
  return formatted;
}

function format(result: DetectResult, parsed: ParsedRequest<FaceppState>, _request: HttpRequest, context: DialectContext): HttpResponse {
  // Largest first, so the faces that were analysed (the 5 largest) come first, as in Face++. With
  // face_rectangle the one face is that rectangle, analysed as given ("the face rectangle will be
  // the same as you passed", API reference): nothing was detected.
  const ordered = largestFirst(result.faces);
  const faces = ordered.map((face) => formatFace(face, parsed.state));
  return jsonResponse(200, {
    request_id: faceppRequestId(context),
    time_used: elapsedMs(context.receivedAt),
    faces,
    image_id: randomBytes(IMAGE_ID_BYTES).toString('base64'),
    face_num: faces.length,
  });
}

// ---------------------------------------------------------------- errors

/** How each neutral code reads in Face++: the error_message (with `<param>` filled in) and status. */
const ERROR_MAP: Record<ErrorCode, { status: number; message: (param: string) => string }> = {
  MISSING_BODY: { status: 400, message: () => 'MISSING_ARGUMENTS: api_key' },
  INVALID_JSON: { status: 400, message: () => 'BAD_ARGUMENTS:body' },
  INVALID_ARGUMENT: { status: 400, message: (param) => `BAD_ARGUMENTS:${param}` },
  MISSING_ARGUMENT: { status: 400, message: (param) => `MISSING_ARGUMENTS: ${param}` },
  MISSING_IMAGE: { status: 400, message: () => `MISSING_ARGUMENTS: ${IMAGE_FIELDS.join(', ')}` },
  CONFLICTING_IMAGE: { status: 400, message: () => 'COEXISTENCE_ARGUMENTS' },
  INVALID_BASE64: { status: 400, message: (param) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${param}` },
  // A body the API cannot read at all has, as far as Face++ is concerned, no api_key.
  UNSUPPORTED_MEDIA_TYPE: { status: 400, message: () => 'MISSING_ARGUMENTS: api_key' },
  PAYLOAD_TOO_LARGE: { status: 413, message: () => 'Request Entity Too Large' },
  EMPTY_IMAGE: { status: 400, message: (param) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${param}` },
  UNSUPPORTED_FORMAT: { status: 400, message: (param) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${param}` },
  CORRUPT_IMAGE: { status: 400, message: (param) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${param}` },
  IMAGE_TOO_LARGE: { status: 400, message: (param) => `IMAGE_FILE_TOO_LARGE:${param}` },
  IMAGE_DIMENSIONS_TOO_LARGE: { status: 400, message: (param) => `INVALID_IMAGE_SIZE:${param}` },
  IMAGE_TOO_SMALL: { status: 400, message: (param) => `INVALID_IMAGE_SIZE:${param}` },
  INVALID_URL: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  URL_FORBIDDEN: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  URL_UNREACHABLE: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  URL_HTTP_ERROR: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  URL_TIMEOUT: { status: 412, message: () => 'IMAGE_DOWNLOAD_TIMEOUT' },
  S3_BUCKET_NOT_ALLOWED: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  S3_OBJECT_NOT_FOUND: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  S3_ACCESS_DENIED: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  S3_UNAVAILABLE: { status: 400, message: () => 'INVALID_IMAGE_URL' },
  NOT_FOUND: { status: 404, message: () => 'API_NOT_FOUND' },
  METHOD_NOT_ALLOWED: { status: 404, message: () => 'API_NOT_FOUND' },
  UNAUTHORIZED: { status: 401, message: () => 'AUTHENTICATION_ERROR' },
  OVERLOADED: { status: 403, message: () => 'CONCURRENCY_LIMIT_EXCEEDED' },
  INTERNAL_ERROR: { status: 500, message: () => 'INTERNAL_ERROR' },
};

/** The image layer prefixes its messages with the field ("image_url: ..."). */
const FIELD_PREFIX_PATTERN = /^(image_file|image_base64|image_url):/;

/**
 * `<param>`: the field the error names, else the image field parse chose for this request, else the
 * field the image layer's message starts with, else the usual upload field.
 */
function errorParam(error: FacekitError, request: HttpRequest): string {
  return error.field ?? imageFieldNotes.get(request) ?? FIELD_PREFIX_PATTERN.exec(error.message)?.[1] ?? 'image_file';
}

function formatError(error: FacekitError, request: HttpRequest, context: DialectContext): HttpResponse {
  const mapped = ERROR_MAP[error.code] ?? ERROR_MAP.INTERNAL_ERROR;
  const errorMessage = mapped.message(errorParam(error, request));
  if (mapped.status === 413) {
    // Documented: "returned in plain text, instead of JSON".
    return { status: 413, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: errorMessage };
  }
  return jsonResponse(mapped.status, {
    time_used: elapsedMs(context.receivedAt),
    error_message: errorMessage,
    request_id: faceppRequestId(context),
  });
}

export const faceppDialect: Dialect<FaceppState> = {
  name: 'facepp',
  parse,
  format,
  formatError,
};
