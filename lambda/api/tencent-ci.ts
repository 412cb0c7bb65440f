/**
 * Tencent Cloud COS CI DetectFace dialect: `GET /{ObjectKey}?ci-process=DetectFace&max-face-num=N`
 * (COS's own path, what cos-nodejs-sdk-v5 sends) and the alias `GET /ci/{ObjectKey}?...`
 * (Tencent Cloud CI DetectFace API reference). The object is read from the deployment's CI bucket;
 * the answer is the documented XML, errors (unknown routes included) are COS-style XML.
 */
import { XMLBuilder } from 'fast-xml-parser';

import { FacekitError, type ErrorCode } from '../errors.js';
import type { DetectResult } from '../vision/types.js';
import type { Dialect, DialectContext, ParsedRequest } from './dialect.js';
import { largestFirst, roundInt } from './dialect-utils.js';
import type { HttpRequest, HttpResponse } from './http.js';

/** Documented: default 1 (only the largest face), maximum 120. */
export const CI_DEFAULT_MAX_FACES = 1;
export const CI_MAX_FACES = 120;
/** The documented value, plus the spelling used in the page's own example request. */
const CI_PROCESS_NAMES = new Set(['detectface', 'detect-face']);
/** Score is documented as an integer 0..100; the detector's is 0..1. */
const SCORE_SCALE = 100;

const XML_CONTENT_TYPE = 'application/xml';
const xmlBuilder = new XMLBuilder({ format: false });

export type TencentCiState = Record<string, never>;

function parseMaxFaceNum(raw: string | undefined): number {
  if (raw === undefined || raw === '') return CI_DEFAULT_MAX_FACES;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > CI_MAX_FACES) {
    throw new FacekitError('INVALID_ARGUMENT', `max-face-num must be an integer from 1 to ${CI_MAX_FACES}`, { field: 'max-face-num' });
  }
  return value;
}

/**
 * The object key: the route's greedy path parameter (the path after `/ci/`, or the whole path at
 * COS's own `GET /<key>`), percent-decoded once.
 */
function objectKey(request: HttpRequest): string {
  const raw = Object.values(request.params ?? {})[0] ?? '';
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new FacekitError('INVALID_ARGUMENT', 'the object key is not valid percent-encoding', { field: 'ObjectKey' });
  }
  if (key === '') throw new FacekitError('MISSING_IMAGE', 'the object key is empty: GET /ci/<ObjectKey>', { field: 'ObjectKey' });
  return key;
}

async function parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<TencentCiState>> {
  const ciProcess = request.query['ci-process'];
  if (ciProcess === undefined || ciProcess === '') {
    throw new FacekitError('MISSING_ARGUMENT', 'ci-process is required (ci-process=DetectFace)', { field: 'ci-process' });
  }
  if (!CI_PROCESS_NAMES.has(ciProcess.toLowerCase())) {
    throw new FacekitError('INVALID_ARGUMENT', `unknown ci-process "${ciProcess}"; this endpoint serves DetectFace`, {
      field: 'ci-process',
    });
  }
  const maxFaces = parseMaxFaceNum(request.query['max-face-num']);
  const key = objectKey(request);
  const bucket = context.config.ciBucket;
  if (!bucket) {
    throw new FacekitError('INTERNAL_ERROR', 'the CI route has no bucket configured (set FACEKIT_CI_BUCKET)');
  }
  return {
    detect: {
      // Re-encoded, because the S3 source decodes the key once more: a key is decoded exactly once.
      image: { kind: 'url', url: `s3://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, field: 'ObjectKey' },
      options: { maxFaces, landmarks106: false, genderAge: false, attributes: new Set() },
    },
    state: {},
  };
}

function xmlResponse(status: number, document: unknown, requestId: string): HttpResponse {
  return {
    status,
    headers: { 'content-type': XML_CONTENT_TYPE, 'x-ci-request-id': requestId },
    body: xmlBuilder.build(document) as string,
  };
}

function format(result: DetectResult, parsed: ParsedRequest<TencentCiState>, _request: HttpRequest, context: DialectContext): HttpResponse {
  // "max-face-num ... only the face with the largest area": largest first, then the cap.
  const faces = largestFirst(result.faces).slice(0, parsed.detect.options.maxFaces ?? CI_DEFAULT_MAX_FACES);
  return xmlResponse(
    200,
    {
      Response: {
        ImageWidth: result.width,
        ImageHeight: result.height,
        FaceModelVersion: context.config.faceModelVersion,
        RequestId: context.requestId,
        Status: faces.length > 0 ? '1' : '0',
        FaceInfos: faces.map((face) => ({
          Score: roundInt(face.score * SCORE_SCALE),
          X: roundInt(face.box.x),
          Y: roundInt(face.box.y),
          Width: roundInt(face.box.width),
          Height: roundInt(face.box.height),
        })),
      },
    },
    context.requestId,
  );
}

const INVALID_PARAMETER = { status: 400, code: 'InvalidParameter.InvalidParameter' };
const PARAMETER_EMPTY = { status: 400, code: 'MissingParameter.ErrorParameterEmpty' };
const DECODE_FAILED = { status: 400, code: 'FailedOperation.ImageDecodeFailed' };
const SIZE_EXCEEDED = { status: 400, code: 'FailedOperation.ImageSizeExceed' };
const DOWNLOAD_ERROR = { status: 400, code: 'FailedOperation.ImageDownloadError' };
const ACCESS_DENIED = { status: 403, code: 'AccessDenied' };

/** Neutral code → CI/COS error code and HTTP status. */
const ERROR_MAP: Record<ErrorCode, { status: number; code: string }> = {
  MISSING_BODY: INVALID_PARAMETER,
  INVALID_JSON: INVALID_PARAMETER,
  INVALID_ARGUMENT: INVALID_PARAMETER,
  MISSING_ARGUMENT: PARAMETER_EMPTY,
  MISSING_IMAGE: PARAMETER_EMPTY,
  CONFLICTING_IMAGE: INVALID_PARAMETER,
  INVALID_BASE64: DECODE_FAILED,
  UNSUPPORTED_MEDIA_TYPE: INVALID_PARAMETER,
  PAYLOAD_TOO_LARGE: SIZE_EXCEEDED,
  EMPTY_IMAGE: { status: 400, code: 'InvalidParameterValue.ImageEmpty' },
  UNSUPPORTED_FORMAT: DECODE_FAILED,
  CORRUPT_IMAGE: DECODE_FAILED,
  IMAGE_TOO_LARGE: SIZE_EXCEEDED,
  IMAGE_DIMENSIONS_TOO_LARGE: { status: 400, code: 'FailedOperation.ImageResolutionExceed' },
  IMAGE_TOO_SMALL: { status: 400, code: 'FailedOperation.ImageResolutionTooSmall' },
  INVALID_URL: { status: 400, code: 'InvalidParameterValue.UrlIllegal' },
  URL_FORBIDDEN: DOWNLOAD_ERROR,
  URL_UNREACHABLE: DOWNLOAD_ERROR,
  URL_HTTP_ERROR: DOWNLOAD_ERROR,
  URL_TIMEOUT: { status: 504, code: 'FailedOperation.RequestTimeout' },
  S3_BUCKET_NOT_ALLOWED: ACCESS_DENIED,
  // COS's own code for a GET on a key that does not exist.
  S3_OBJECT_NOT_FOUND: { status: 404, code: 'NoSuchKey' },
  S3_ACCESS_DENIED: ACCESS_DENIED,
  S3_UNAVAILABLE: { status: 503, code: 'FailedOperation.ImageDownloadError' },
  NOT_FOUND: { status: 404, code: 'NoSuchKey' },
  METHOD_NOT_ALLOWED: { status: 405, code: 'MethodNotAllowed' },
  UNAUTHORIZED: ACCESS_DENIED,
  OVERLOADED: { status: 503, code: 'FailedOperation.RequestLimitExceeded' },
  INTERNAL_ERROR: { status: 500, code: 'InternalError' },
};

/** An unknown ci-process is the documented "unknown method name", not a generic bad parameter. */
function mapError(error: FacekitError): { status: number; code: string } {
  if (error.code === 'INVALID_ARGUMENT' && error.field === 'ci-process') {
    return { status: 400, code: 'UnsupportedOperation.UnknowMethod' };
  }
  return ERROR_MAP[error.code] ?? ERROR_MAP.INTERNAL_ERROR;
}

function formatError(error: FacekitError, _request: HttpRequest, context: DialectContext): HttpResponse {
  const { status, code } = mapError(error);
  return xmlResponse(status, { Error: { Code: code, Message: error.message, RequestId: context.requestId } }, context.requestId);
}

export const tencentCiDialect: Dialect<TencentCiState> = {
  name: 'tencent-ci',
  parse,
  format,
  formatError,
};
