/**
 * AWS Rekognition DetectFaces over the AWS JSON 1.1 protocol: `POST /rekognition` with
 * `X-Amz-Target: RekognitionService.DetectFaces`, so `new RekognitionClient({ endpoint:
 * '<api>/rekognition' })` works unchanged. Field names, enums and ranges follow the SDK's own types
 * (@aws-sdk/client-rekognition, dist-types/models) and the Rekognition API reference (DetectFaces,
 * FaceDetail). Attributes no model here computes (Beard, Mustache; the
 * Confidence of Smile and EyeDirection) are left out, never invented: see docs/api.md.
 */
import { FacekitError, type ErrorCode } from '../errors.js';
import type { ImageInput } from '../image/types.js';
import type { AttributeName, DetectResult, Emotion, FaceAnalysis, Point } from '../vision/types.js';
import { bodyLimitsFor, parseBody } from './body.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { indices106, meanPoint } from './facepp-landmarks.js';
import type { HttpRequest, HttpResponse } from './http.js';

export const REKOGNITION_CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Documented: "Blob of image bytes up to 5 MBs". */
export const REKOGNITION_MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Documented: "DetectFaces detects the 100 largest faces in the image." */
export const REKOGNITION_MAX_FACES = 100;
/**
 * Rekognition Developer Guide, "Guidelines and quotas": a face must be at least 40×40 px in a
 * 1920×1080 image, proportionally larger in larger images (40/1080 of the short side).
 */
const REKOGNITION_MIN_FACE_PX = 40;
const REKOGNITION_MIN_FACE_REFERENCE_SHORT_SIDE = 1080;
const PERCENT = 100;
const RADIANS_TO_DEGREES = 180 / Math.PI;

export const REKOGNITION_ATTRIBUTES = [
  'DEFAULT', 'ALL', 'AGE_RANGE', 'BEARD', 'EMOTIONS', 'EYE_DIRECTION', 'EYEGLASSES', 'EYES_OPEN',
  'FACE_OCCLUDED', 'GENDER', 'MOUTH_OPEN', 'MUSTACHE', 'SMILE', 'SUNGLASSES',
] as const;
export type RekognitionAttribute = (typeof REKOGNITION_ATTRIBUTES)[number];
type FaceField = Exclude<RekognitionAttribute, 'DEFAULT' | 'ALL'>;

/** What each requested FaceDetail field needs from the pipeline. BEARD/MUSTACHE: nothing (omitted). */
const FIELD_NEEDS: Record<FaceField, { genderAge?: boolean; attributes?: readonly AttributeName[] }> = {
  AGE_RANGE: { genderAge: true },
  GENDER: { genderAge: true },
  BEARD: {},
  MUSTACHE: {},
  EMOTIONS: { attributes: ['emotion'] },
  EYE_DIRECTION: { attributes: ['eyeGaze'] },
  EYEGLASSES: { attributes: ['glasses'] },
  SUNGLASSES: { attributes: ['glasses'] },
  EYES_OPEN: { attributes: ['eyeStatus'] },
  MOUTH_OPEN: { attributes: ['mouthStatus'] },
  SMILE: { attributes: ['smile'] },
  FACE_OCCLUDED: { attributes: ['mask', 'glasses', 'mouthStatus', 'eyeStatus'] },
};
/** DEFAULT: BoundingBox, Confidence, Pose, Quality and Landmarks (always returned). */
const DEFAULT_ATTRIBUTES: readonly AttributeName[] = ['headPose', 'blur'];

/** facekit's seven emotions → Rekognition's EmotionName (CONFUSED and UNKNOWN: no class here). */
const EMOTION_NAMES: Record<Emotion, string> = {
  angry: 'ANGRY', disgust: 'DISGUSTED', fear: 'FEAR', happy: 'HAPPY', sad: 'SAD', surprise: 'SURPRISED', neutral: 'CALM',
};

/**
 * Rekognition's 30 LandmarkType values from the 106 points, by Face++ 106 name (the 2d106 order,
 * see facepp-landmarks.ts); "Left"/"Right" are the image's left and right, as in Rekognition (its
 * `eyeLeft` has the smaller X). A list is averaged. See docs/api.md for the reasoning per point.
 */
const LANDMARK_SOURCES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['eyeLeft', ['left_eye_center']],
  ['eyeRight', ['right_eye_center']],
  ['nose', ['nose_tip']],
  ['mouthLeft', ['mouth_left_corner']],
  ['mouthRight', ['mouth_right_corner']],
  ['leftEyeBrowLeft', ['left_eyebrow_left_corner']],
  ['leftEyeBrowRight', ['left_eyebrow_upper_right_corner', 'left_eyebrow_lower_right_corner']],
  ['leftEyeBrowUp', ['left_eyebrow_upper_middle']],
  ['rightEyeBrowLeft', ['right_eyebrow_upper_left_corner', 'right_eyebrow_lower_left_corner']],
  ['rightEyeBrowRight', ['right_eyebrow_right_corner']],
  ['rightEyeBrowUp', ['right_eyebrow_upper_middle']],
  ['leftEyeLeft', ['left_eye_left_corner']],
  ['leftEyeRight', ['left_eye_right_corner']],
  ['leftEyeUp', ['left_eye_top']],
  ['leftEyeDown', ['left_eye_bottom']],
  ['rightEyeLeft', ['right_eye_left_corner']],
  ['rightEyeRight', ['right_eye_right_corner']],
  ['rightEyeUp', ['right_eye_top']],
  ['rightEyeDown', ['right_eye_bottom']],
  // The nostril wings: the middle of each side contour of the nose.
  ['noseLeft', ['nose_left_contour3']],
  ['noseRight', ['nose_right_contour3']],
  ['mouthUp', ['mouth_upper_lip_top']],
  ['mouthDown', ['mouth_lower_lip_bottom']],
  ['leftPupil', ['left_eye_pupil']],
  ['rightPupil', ['right_eye_pupil']],
  // The jaw line runs contour_*1 (ear level) .. contour_*16 (next to the chin): upper = ear level,
  // mid = halfway down to the chin.
  ['upperJawlineLeft', ['contour_left1']],
  ['midJawlineLeft', ['contour_left8']],
  ['chinBottom', ['contour_chin']],
  ['midJawlineRight', ['contour_right8']],
  ['upperJawlineRight', ['contour_right1']],
];
const LANDMARK_INDICES = LANDMARK_SOURCES.map(([type, names]) => [type, indices106(names)] as const);
/** Without the 106 points (never for analysed faces): the detector's 5, in its order. */
const LANDMARK_5_TYPES = ['eyeLeft', 'eyeRight', 'nose', 'mouthLeft', 'mouthRight'] as const;

export interface RekognitionState {
  readonly fields: ReadonlySet<FaceField>;
}

function invalidParameter(message: string, field?: string): FacekitError {
  return new FacekitError('INVALID_ARGUMENT', message, field ? { field } : undefined);
}

function parseAttributes(raw: unknown): Set<FaceField> {
  if (raw === undefined || raw === null) return new Set();
  if (!Array.isArray(raw) || raw.some((value) => typeof value !== 'string')) {
    throw invalidParameter('Attributes must be a list of strings', 'Attributes');
  }
  const unknown = raw.filter((value) => !(REKOGNITION_ATTRIBUTES as readonly string[]).includes(value));
  if (unknown.length > 0) {
    throw invalidParameter(`Attributes: unknown value(s) ${unknown.join(', ')}; valid: ${REKOGNITION_ATTRIBUTES.join(', ')}`, 'Attributes');
  }
  if (raw.includes('ALL')) return new Set(Object.keys(FIELD_NEEDS) as FaceField[]);
  return new Set(raw.filter((value): value is FaceField => value in FIELD_NEEDS));
}

/** Decoded size of a base64 string, without decoding it. */
function base64DecodedBytes(base64: string): number {
  const compact = base64.replace(/\s+/g, '');
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  return Math.floor((compact.length * 3) / 4) - padding;
}

function requiredString(object: Record<string, unknown>, field: string, path: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') throw invalidParameter(`${path}.${field} is required and must be a non-empty string`, `${path}.${field}`);
  return value;
}

function imageInput(raw: unknown): ImageInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FacekitError('MISSING_IMAGE', 'Image is required: {Bytes: <base64>} or {S3Object: {Bucket, Name}}', { field: 'Image' });
  }
  const image = raw as Record<string, unknown>;
  const hasBytes = image.Bytes !== undefined && image.Bytes !== null;
  const hasS3 = image.S3Object !== undefined && image.S3Object !== null;
  if (hasBytes === hasS3) {
    throw invalidParameter('Image must have exactly one of Bytes and S3Object', 'Image');
  }
  if (hasBytes) {
    if (typeof image.Bytes !== 'string') throw invalidParameter('Image.Bytes must be base64-encoded bytes', 'Image.Bytes');
    const bytes = base64DecodedBytes(image.Bytes);
    if (bytes > REKOGNITION_MAX_IMAGE_BYTES) {
      throw new FacekitError('IMAGE_TOO_LARGE', `Image.Bytes is ${bytes} bytes, over the ${REKOGNITION_MAX_IMAGE_BYTES}-byte limit`, { field: 'Image.Bytes' });
    }
    if (bytes <= 0) throw new FacekitError('EMPTY_IMAGE', 'Image.Bytes is empty', { field: 'Image.Bytes' });
    return { kind: 'base64', base64: image.Bytes, field: 'Image.Bytes' };
  }
  if (typeof image.S3Object !== 'object' || Array.isArray(image.S3Object)) throw invalidParameter('Image.S3Object must be an object', 'Image.S3Object');
  const s3 = image.S3Object as Record<string, unknown>;
  const bucket = requiredString(s3, 'Bucket', 'Image.S3Object');
  const name = requiredString(s3, 'Name', 'Image.S3Object');
  const version = s3.Version;
  if (version !== undefined && (typeof version !== 'string' || version === '')) throw invalidParameter('Image.S3Object.Version must be a string', 'Image.S3Object.Version');
  // The S3 source decodes the key once: encode each segment so the key arrives exactly as named.
  const key = name.split('/').map(encodeURIComponent).join('/');
  const versionQuery = version ? `?versionId=${encodeURIComponent(version)}` : '';
  return { kind: 'url', url: `s3://${bucket}/${key}${versionQuery}`, field: 'Image.S3Object' };
}

async function parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<RekognitionState>> {
  const body = await parseBody(request, { accept: ['json'], limits: bodyLimitsFor(context.config.image), withoutContentType: 'json' });
  const json = body.kind === 'json' ? body.json : undefined;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FacekitError('INVALID_JSON', 'the body must be a JSON object');
  const fields = json as Record<string, unknown>;
  const unknownFields = Object.keys(fields).filter((key) => key !== 'Image' && key !== 'Attributes');
  if (unknownFields.length > 0) throw invalidParameter(`unknown parameter(s) ${unknownFields.join(', ')}`, unknownFields[0]);
  const requested = parseAttributes(fields.Attributes);
  const image = imageInput(fields.Image);
  const attributes = new Set<AttributeName>(DEFAULT_ATTRIBUTES);
  let genderAge = false;
  for (const field of requested) {
    const needs = FIELD_NEEDS[field];
    if (needs.genderAge) genderAge = true;
    for (const attribute of needs.attributes ?? []) attributes.add(attribute);
  }
  return {
    detect: {
      image,
      options: {
        maxFaces: REKOGNITION_MAX_FACES,
        landmarks106: true,
        genderAge,
        attributes,
        minFaceSize: REKOGNITION_MIN_FACE_PX,
        minFaceShortSideFraction: REKOGNITION_MIN_FACE_PX / REKOGNITION_MIN_FACE_REFERENCE_SHORT_SIDE,
      },
    },
    state: { fields: requested },
  };
}

/** A yes/no answer with Rekognition's Confidence (0..100) in that answer. */
function decision(probability: number): { Value: boolean; Confidence: number } {
  const value = probability >= 0.5;
  return { Value: value, Confidence: (value ? probability : 1 - probability) * PERCENT };
}

function landmarks(face: FaceAnalysis, width: number, height: number): Array<{ Type: string; X: number; Y: number }> {
  const ratio = (type: string, point: Point): { Type: string; X: number; Y: number } => ({ Type: type, X: point.x / width, Y: point.y / height });
  if (face.landmarks106) return LANDMARK_INDICES.map(([type, indices]) => ratio(type, meanPoint(face.landmarks106!, indices)));
  return face.landmarks5.map((point, index) => ratio(LANDMARK_5_TYPES[index]!, point));
}

/** Unit gaze vector (x right, y down, z towards the camera) → yaw/pitch degrees; > 0 = right / up in the image. */
function gazeAngles(face: FaceAnalysis): { Yaw: number; Pitch: number } | undefined {
  const gaze = face.attributes?.eyeGaze;
  if (!gaze) return undefined;
  const x = (gaze.left.vector.x + gaze.right.vector.x) / 2;
  const y = (gaze.left.vector.y + gaze.right.vector.y) / 2;
  const z = (gaze.left.vector.z + gaze.right.vector.z) / 2;
  return { Yaw: Math.atan2(x, z) * RADIANS_TO_DEGREES, Pitch: Math.atan2(-y, Math.hypot(x, z)) * RADIANS_TO_DEGREES };
}

export function formatFaceDetail(face: FaceAnalysis, width: number, height: number, fields: ReadonlySet<FaceField>): Record<string, unknown> {
  const attributes = face.attributes ?? {};
  const detail: Record<string, unknown> = {
    BoundingBox: { Width: face.box.width / width, Height: face.box.height / height, Left: face.box.x / width, Top: face.box.y / height },
  };
  if (fields.has('AGE_RANGE') && face.ageRange) {
    detail.AgeRange = { Low: Math.max(0, Math.floor(face.ageRange.low)), High: Math.ceil(face.ageRange.high) };
  }
  // Smile: the intensity against its threshold; the model gives no calibrated confidence (omitted).
  if (fields.has('SMILE') && attributes.smile) detail.Smile = { Value: attributes.smile.value > attributes.smile.threshold };
  if (fields.has('EYEGLASSES') && attributes.glasses) detail.Eyeglasses = decision(attributes.glasses.eyeglasses + attributes.glasses.sunglasses);
  if (fields.has('SUNGLASSES') && attributes.glasses) detail.Sunglasses = decision(attributes.glasses.sunglasses);
  if (fields.has('GENDER') && face.gender) {
    const male = face.gender.maleProbability;
    detail.Gender = { Value: male >= 0.5 ? 'Male' : 'Female', Confidence: Math.max(male, 1 - male) * PERCENT };
  }
  if (fields.has('EYES_OPEN') && attributes.eyeStatus) {
    detail.EyesOpen = decision((attributes.eyeStatus.left.state.open + attributes.eyeStatus.right.state.open) / 2);
  }
  if (fields.has('MOUTH_OPEN') && attributes.mouthStatus) detail.MouthOpen = decision(attributes.mouthStatus.open);
  if (fields.has('EMOTIONS') && attributes.emotion) {
    detail.Emotions = (Object.entries(attributes.emotion) as Array<[Emotion, number]>)
      .map(([emotion, probability]) => ({ Type: EMOTION_NAMES[emotion], Confidence: probability * PERCENT }))
      .sort((a, b) => b.Confidence - a.Confidence);
  }
  detail.Landmarks = landmarks(face, width, height);
  if (attributes.headPose) detail.Pose = { Roll: attributes.headPose.roll, Yaw: attributes.headPose.yaw, Pitch: attributes.headPose.pitch };
  // Sharpness is the blur measure inverted; Brightness the face crop's mean luma (0..100).
  if (attributes.blur) {
    detail.Quality = { ...(attributes.brightness !== undefined ? { Brightness: attributes.brightness } : {}), Sharpness: (1 - attributes.blur.value) * PERCENT };
  }
  detail.Confidence = face.score * PERCENT;
  if (fields.has('FACE_OCCLUDED') && attributes.mask !== undefined && attributes.glasses && attributes.mouthStatus && attributes.eyeStatus) {
    // Documented: eyes, nose or mouth covered (mask, dark glasses, hands...): the likeliest such cover.
    const eyeOccluded = (attributes.eyeStatus.left.state.occluded + attributes.eyeStatus.right.state.occluded) / 2;
    detail.FaceOccluded = decision(Math.max(attributes.mask, attributes.glasses.sunglasses, attributes.mouthStatus.occluded, eyeOccluded));
  }
  const gaze = fields.has('EYE_DIRECTION') ? gazeAngles(face) : undefined;
  if (gaze) detail.EyeDirection = gaze;
  return detail;
}

function amzJson(status: number, payload: unknown, requestId: string, extraHeaders: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': REKOGNITION_CONTENT_TYPE, 'x-amzn-requestid': requestId, ...extraHeaders },
    body: JSON.stringify(payload),
  };
}

function format(result: DetectResult, parsed: ParsedRequest<RekognitionState>, _request: HttpRequest, context: DialectContext): HttpResponse {
  const faceDetails = result.faces.map((face) => formatFaceDetail(face, result.width, result.height, parsed.state.fields));
  return amzJson(200, { FaceDetails: faceDetails }, context.requestId);
}

const INVALID_PARAMETER = { status: 400, type: 'InvalidParameterException' };
const INVALID_IMAGE = { status: 400, type: 'InvalidImageFormatException' };
const TOO_LARGE = { status: 400, type: 'ImageTooLargeException' };
const INVALID_S3_OBJECT = { status: 400, type: 'InvalidS3ObjectException' };
const ACCESS_DENIED = { status: 400, type: 'AccessDeniedException' };

/** Neutral code → Rekognition exception and the HTTP status its API reference gives it. */
const ERROR_MAP: Record<ErrorCode, { status: number; type: string }> = {
  MISSING_BODY: INVALID_PARAMETER,
  INVALID_JSON: INVALID_PARAMETER,
  INVALID_ARGUMENT: INVALID_PARAMETER,
  MISSING_ARGUMENT: INVALID_PARAMETER,
  MISSING_IMAGE: INVALID_PARAMETER,
  CONFLICTING_IMAGE: INVALID_PARAMETER,
  INVALID_BASE64: INVALID_IMAGE,
  UNSUPPORTED_MEDIA_TYPE: INVALID_PARAMETER,
  PAYLOAD_TOO_LARGE: TOO_LARGE,
  EMPTY_IMAGE: INVALID_IMAGE,
  UNSUPPORTED_FORMAT: INVALID_IMAGE,
  CORRUPT_IMAGE: INVALID_IMAGE,
  IMAGE_TOO_LARGE: TOO_LARGE,
  IMAGE_DIMENSIONS_TOO_LARGE: TOO_LARGE,
  IMAGE_TOO_SMALL: INVALID_IMAGE,
  INVALID_URL: INVALID_S3_OBJECT,
  URL_FORBIDDEN: INVALID_S3_OBJECT,
  URL_UNREACHABLE: INVALID_S3_OBJECT,
  URL_HTTP_ERROR: INVALID_S3_OBJECT,
  URL_TIMEOUT: INVALID_S3_OBJECT,
  // A bucket outside the deployment's allow-list: the caller may not read it through facekit.
  S3_BUCKET_NOT_ALLOWED: ACCESS_DENIED,
  S3_OBJECT_NOT_FOUND: INVALID_S3_OBJECT,
  S3_ACCESS_DENIED: INVALID_S3_OBJECT,
  S3_UNAVAILABLE: INVALID_S3_OBJECT,
  // The JSON protocol's answer to an X-Amz-Target the service does not have.
  NOT_FOUND: { status: 400, type: 'UnknownOperationException' },
  METHOD_NOT_ALLOWED: { status: 400, type: 'UnknownOperationException' },
  UNAUTHORIZED: ACCESS_DENIED,
  // API reference: ThrottlingException, HTTP 500 (the SDK retries it).
  OVERLOADED: { status: 500, type: 'ThrottlingException' },
  INTERNAL_ERROR: { status: 500, type: 'InternalServerError' },
};

function formatError(error: FacekitError, _request: HttpRequest, context: DialectContext): HttpResponse {
  const { status, type } = ERROR_MAP[error.code] ?? ERROR_MAP.INTERNAL_ERROR;
  // `__type` is what the SDK dispatches on; Message/Code as the service sends them, `message` for the protocol.
  return amzJson(status, { __type: type, Code: type, Message: error.message, message: error.message }, context.requestId, { 'x-amzn-errortype': type });
}

export const rekognitionDialect: Dialect<RekognitionState> = {
  name: 'rekognition',
  parse,
  format,
  formatError,
};
