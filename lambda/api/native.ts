/**
 * The native route, AI Solution Kit "Face Detection" (../shared/reference/000):
 * `POST /face_detection` (alias `/face-detection`), JSON `{url}` or `{img}`, exactly one.
 * The response is exactly the seed's: `{Faces:[{BoundingBox, Confidence, landmark_106, gender, age}],
 * FaceModelVersion}`. facekit extensions (`attributes`, `max_faces`, `min_confidence`) are off unless
 * sent, so existing clients see exactly the seed response.
 */
import { FacekitError } from '../errors.js';
import type { ImageInput } from '../image/types.js';
import { ATTRIBUTE_NAMES, type AttributeName, type DetectOptions, type DetectResult, type FaceAnalysis } from '../vision/types.js';
import { parseBody, bodyLimitsFor } from './body.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { clamp } from './dialect-utils.js';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http.js';

/** Request fields this route knows; anything else is refused so typos don't pass silently. */
const KNOWN_FIELDS = new Set(['url', 'img', 'attributes', 'max_faces', 'min_confidence', 'min_face_size']);

export interface NativeState {
  /** Extension: attributes to add under `attributes` on each face. */
  readonly attributes: readonly AttributeName[];
}

export interface NativeFace {
  readonly BoundingBox: { readonly Width: number; readonly Height: number; readonly Left: number; readonly Top: number };
  readonly Confidence: number;
  readonly landmark_106: readonly { readonly x: number; readonly y: number }[];
  readonly gender: 'male' | 'female';
  readonly age: number;
  readonly attributes?: FaceAnalysis['attributes'];
}

export interface NativeBody {
  readonly Faces: readonly NativeFace[];
  readonly FaceModelVersion: string;
}

function requireObject(json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FacekitError('INVALID_ARGUMENT', 'the body must be a JSON object: {"url": "..."} or {"img": "<base64>"}');
  }
  return json as Record<string, unknown>;
}

function imageInput(body: Record<string, unknown>): ImageInput {
  const hasUrl = body.url !== undefined && body.url !== null && body.url !== '';
  const hasImg = body.img !== undefined && body.img !== null && body.img !== '';
  if (hasUrl && hasImg) throw new FacekitError('CONFLICTING_IMAGE', 'send either url or img, not both');
  if (!hasUrl && !hasImg) throw new FacekitError('MISSING_IMAGE', 'send url (http, https or s3://bucket/key) or img (base64 image)');
  const field = hasUrl ? 'url' : 'img';
  const value = body[field];
  if (typeof value !== 'string') throw new FacekitError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  return hasUrl ? { kind: 'url', url: value.trim(), field } : { kind: 'base64', base64: value, field };
}

function parseAttributes(raw: unknown): AttributeName[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((name) => typeof name !== 'string')) {
    throw new FacekitError('INVALID_ARGUMENT', `attributes must be a list of names from: ${ATTRIBUTE_NAMES.join(', ')}`, { field: 'attributes' });
  }
  const unknown = raw.filter((name) => !(ATTRIBUTE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new FacekitError('INVALID_ARGUMENT', `unknown attributes ${unknown.join(', ')}; known: ${ATTRIBUTE_NAMES.join(', ')}`, { field: 'attributes' });
  }
  return [...new Set(raw as AttributeName[])];
}

function parseOptionalNumber(raw: unknown, field: string, check: (value: number) => boolean, rule: string): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || !check(raw)) {
    throw new FacekitError('INVALID_ARGUMENT', `${field} must be ${rule}`, { field });
  }
  return raw;
}

/** Pure: the seed's body for a detection result (also used by the CLI). */
export function formatNativeBody(result: Pick<DetectResult, 'width' | 'height' | 'faces'>, faceModelVersion: string, attributes: readonly AttributeName[] = []): NativeBody {
  const { width, height } = result;
  const faces = result.faces.map((face): NativeFace => {
    const left = clamp(face.box.x / width, 0, 1);
    const top = clamp(face.box.y / height, 0, 1);
    const right = clamp((face.box.x + face.box.width) / width, 0, 1);
    const bottom = clamp((face.box.y + face.box.height) / height, 0, 1);
    if (!face.landmarks106 || !face.gender || face.age === undefined) {
      throw new Error('native route needs landmarks106, gender and age for every face');
    }
    return {
      BoundingBox: { Width: right - left, Height: bottom - top, Left: left, Top: top },
      Confidence: face.score,
      landmark_106: face.landmarks106.map((point) => ({ x: Math.round(point.x), y: Math.round(point.y) })),
      gender: face.gender.value,
      age: Math.round(face.age),
      ...(attributes.length > 0 && face.attributes ? { attributes: face.attributes } : {}),
    };
  });
  return { Faces: faces, FaceModelVersion: faceModelVersion };
}

export function nativeErrorBody(error: FacekitError, requestId: string): { code: string; message: string; requestId: string } {
  return { code: error.code, message: error.message, requestId };
}

export const nativeDialect: Dialect<NativeState> = {
  name: 'native',

  async parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<NativeState>> {
    const parsed = await parseBody(request, { accept: ['json'], limits: bodyLimitsFor(context.config.image) });
    if (parsed.kind !== 'json') throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    const body = requireObject(parsed.json);
    const unknownFields = Object.keys(body).filter((key) => !KNOWN_FIELDS.has(key));
    if (unknownFields.length > 0) {
      throw new FacekitError('INVALID_ARGUMENT', `unknown field ${unknownFields.join(', ')}; send url or img`, { field: unknownFields[0] });
    }
    const attributes = parseAttributes(body.attributes);
    const maxFaces = parseOptionalNumber(body.max_faces, 'max_faces', (value) => Number.isInteger(value) && value >= 1, 'an integer ≥ 1');
    const minConfidence = parseOptionalNumber(body.min_confidence, 'min_confidence', (value) => value > 0 && value <= 1, 'a number in (0, 1]');
    // Extension: the smallest face (px) wanted; the detector plans fewer, smaller passes for larger values.
    const minFaceSize = parseOptionalNumber(body.min_face_size, 'min_face_size', (value) => value >= 1 && value <= 4096, 'a number of pixels in [1, 4096]');
    const options: DetectOptions = {
      landmarks106: true,
      genderAge: true,
      attributes: new Set(attributes),
      ...(maxFaces !== undefined ? { maxFaces } : {}),
      ...(minConfidence !== undefined ? { minConfidence } : {}),
      ...(minFaceSize !== undefined ? { minFaceSize } : {}),
    };
    return { detect: { image: imageInput(body), options }, state: { attributes } };
  },

  format(result: DetectResult, parsed: ParsedRequest<NativeState>, _request: HttpRequest, context: DialectContext): HttpResponse {
    return jsonResponse(200, formatNativeBody(result, context.config.faceModelVersion, parsed.state.attributes));
  },

  formatError(error: FacekitError, _request: HttpRequest, context: DialectContext): HttpResponse {
    return jsonResponse(error.status, nativeErrorBody(error, context.requestId));
  },
};
