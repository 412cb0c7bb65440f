/**
 * Shared fixtures for the dialect unit tests: requests, contexts and a synthetic DetectResult
 * (no model runs here).
 */
import { loadConfig, type FacekitConfig } from '../../lambda/config.js';
import type { Dialect, DialectContext } from '../../lambda/api/dialect.js';
import type { HttpRequest, HttpResponse } from '../../lambda/api/http.js';
import { ERROR_STATUS, type ErrorCode, type FacekitError } from '../../lambda/errors.js';
import type { DetectResult, FaceAnalysis, FaceAttributes, Point } from '../../lambda/vision/types.js';

export const ALL_ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export function makeContext(overrides: Partial<FacekitConfig> = {}, receivedAt = Date.now()): DialectContext {
  return {
    config: { ...loadConfig({}), ...overrides },
    requestId: '0b5f2b8e-2d7c-4c1a-9a57-3f0c1b2a4d5e',
    receivedAt,
  };
}

export function makeRequest(init: Partial<HttpRequest> & { path: string }): HttpRequest {
  return {
    method: 'POST',
    query: {},
    headers: {},
    body: Buffer.alloc(0),
    requestId: 'test-request',
    ...init,
  };
}

/** A real multipart body (boundary and all) built the way browsers and fetch do. */
export async function multipartRequest(path: string, form: FormData): Promise<HttpRequest> {
  const response = new Response(form);
  const body = Buffer.from(await response.arrayBuffer());
  return makeRequest({ path, headers: { 'content-type': response.headers.get('content-type')! }, body });
}

export function jsonRequest(path: string, payload: unknown): HttpRequest {
  return makeRequest({ path, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(payload)) });
}

export function urlencodedRequest(path: string, fields: Record<string, string>): HttpRequest {
  return makeRequest({
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams(fields).toString()),
  });
}

export function bodyJson(response: HttpResponse): any {
  return JSON.parse(response.body);
}

/** Bytes standing in for an image: dialects never decode them. */
export const FAKE_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);

/** 106 distinct points: point i = (100 + i + 0.4, 200 + 2i + 0.6), so rounding and indices are checkable. */
export function synthetic106(): Point[] {
  return Array.from({ length: 106 }, (_, i) => ({ x: 100 + i + 0.4, y: 200 + 2 * i + 0.6 }));
}

export const FULL_ATTRIBUTES: FaceAttributes = {
  emotion: { angry: 0.1, disgust: 0.05, fear: 0.05, happy: 0.6, sad: 0.05, surprise: 0.05, neutral: 0.1 },
  smile: { value: 72.34567, threshold: 50 },
  headPose: { yaw: -12.3456789, pitch: 35.5, roll: -190 },
  blur: { value: 0.123456, threshold: 0.5 },
  brightness: 43.21,
  quality: { value: 81.23456, threshold: 70.1 },
  eyeStatus: {
    left: { state: { open: 0.7, closed: 0.2, occluded: 0.1 }, glasses: { none: 0.6, eyeglasses: 0.3, sunglasses: 0.1 } },
    right: { state: { open: 0.5, closed: 0.5, occluded: 0 }, glasses: { none: 0.6, eyeglasses: 0.3, sunglasses: 0.1 } },
  },
  mouthStatus: { open: 0.2, closed: 0.5, mask: 0.2, occluded: 0.1 },
  glasses: { none: 0.2, eyeglasses: 0.7, sunglasses: 0.1 },
  mask: 0.3,
  eyeGaze: {
    left: { position: { x: 130, y: 240 }, vector: { x: 0.1234, y: -0.2, z: 0.97 } },
    right: { position: { x: 170, y: 240 }, vector: { x: -0.1, y: -0.2, z: 0.97 } },
  },
  liveness: 0.9,
};

/** A fully analysed face (box 100×120 at 110.4, 200.6). */
export function analysedFace(overrides: Partial<FaceAnalysis> = {}): FaceAnalysis {
  return {
    box: { x: 110.4, y: 200.6, width: 100.2, height: 120.7 },
    score: 0.9876,
    landmarks5: [
      { x: 130, y: 240 },
      { x: 170, y: 240 },
      { x: 150, y: 270 },
      { x: 135, y: 300 },
      { x: 165, y: 300 },
    ],
    landmarks106: synthetic106(),
    gender: { value: 'female', maleProbability: 0.123 },
    age: 27.6,
    attributes: FULL_ATTRIBUTES,
    ...overrides,
  };
}

/** A face beyond the analysed set: box, score and 5 points only. */
export function bareFace(x: number, size: number, score = 0.7): FaceAnalysis {
  return {
    box: { x, y: 10, width: size, height: size },
    score,
    landmarks5: [
      { x: x + 1, y: 11 },
      { x: x + 2, y: 11 },
      { x: x + 1.5, y: 12 },
      { x: x + 1, y: 13 },
      { x: x + 2, y: 13 },
    ],
  };
}

export function makeResult(faces: FaceAnalysis[], width = 640, height = 480): DetectResult {
  return {
    width,
    height,
    faces,
    timings: { detectMs: 1, landmarksMs: 1, genderAgeMs: 1, attributesMs: 1, fetchMs: 0, decodeMs: 1 },
  };
}

/**
 * Parses a request that must be refused, and returns the dialect's error response for it.
 * `parse did not throw` fails the test when the request was accepted.
 */
export async function refusal(dialect: Dialect<any>, request: HttpRequest, context: DialectContext): Promise<HttpResponse> {
  try {
    await dialect.parse(request, context);
  } catch (error) {
    return dialect.formatError(error as FacekitError, request, context);
  }
  throw new Error('parse did not throw');
}
