/**
 * facekit's one route table: the router (lambda/router.ts) serves it, the CDK construct creates one
 * API Gateway method per entry, and the OpenAPI document (lib/openapi.ts) describes it. It is pure
 * data: no aws-cdk-lib, nothing from lambda/ (the construct and the Lambda bundle both read it).
 *
 * Matching (lambda/router.ts): entries are tried in order; an entry serves a request when its
 * method, its path pattern and its `when` conditions all match. A request no entry serves is
 * answered in the error shape of the dialect it recognisably belongs to: an entry whose path and
 * condition keys match (wrong method, wrong operation), else an entry sharing its first path segment.
 */

/** Who answers a route: a cloud dialect (lambda/api/*), or the service itself (health, docs). */
export const DIALECT_NAMES = ['native', 'facepp', 'tencent-ci', 'youtu', 'alibaba', 'rekognition'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];
export const SERVICE_PAGES = ['health', 'openapi', 'docs'] as const;
export type ServicePage = (typeof SERVICE_PAGES)[number];

export interface RouteCondition {
  /** Header (any case) or query parameter name. */
  readonly name: string;
  /**
   * Accepted values (header values compared case-sensitively, as AWS does for X-Amz-Target).
   * Absent: the parameter only has to be present (its dialect validates the value).
   */
  readonly values?: readonly string[];
}

export interface FacekitRoute {
  /** HTTP method of the API Gateway method. */
  readonly method: 'GET' | 'POST';
  /** Resource path, starting with `/`; `{name+}` is a greedy path parameter (last segment only). */
  readonly path: string;
  /** The dialect that parses and answers the route (error shapes included), or a service page. */
  readonly dialect: DialectName | 'service';
  /** For `dialect: 'service'`: which page. */
  readonly page?: ServicePage;
  /**
   * The route is only created when the construct is given a `ciBucket`
   * (the Tencent CI routes read objects from that bucket).
   * @default false
   */
  readonly requiresCiBucket?: boolean;
  /** Headers that must be present (and match) for this entry to serve a request. */
  readonly whenHeader?: RouteCondition;
  /** Query parameter that must be present (and match) for this entry to serve a request. */
  readonly whenQuery?: RouteCondition;
  /** OpenAPI operation: unique id, one-line summary, the service documentation it follows. */
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  /** OpenAPI tag (the service the dialect imitates). */
  readonly tag: string;
}

const CI_DESCRIPTION =
  'Tencent Cloud COS CI DetectFace: the face rectangles of an object of the CI bucket, in COS XML. ' +
  '`ci-process` is `DetectFace` (the spelling `detect-face` is accepted); `max-face-num` 1..120, default 1.';

export const FACEKIT_ROUTES: readonly FacekitRoute[] = [
  {
    method: 'POST', path: '/face_detection', dialect: 'native', tag: 'native',
    operationId: 'detectFaces', summary: 'Detect faces (AI Solution Kit Face Detection)',
    description: 'JSON `{url}` or `{img}` (base64), exactly one. Faces with bounding box ratios, confidence, 106 landmarks, gender and age. facekit extensions: `attributes`, `max_faces`, `min_confidence`, `min_face_size` (smallest face in px: fewer, smaller detector passes).',
  },
  {
    method: 'POST', path: '/face-detection', dialect: 'native', tag: 'native',
    operationId: 'detectFacesAlias', summary: 'Alias of POST /face_detection',
    description: 'The same operation as `POST /face_detection`.',
  },
  {
    method: 'POST', path: '/facepp/v3/detect', dialect: 'facepp', tag: 'Face++',
    operationId: 'faceppDetect', summary: 'Face++ Detect API v3',
    description: 'multipart/form-data or urlencoded: `api_key`, `api_secret`, one of `image_file`, `image_base64`, `image_url`; `return_landmark`, `return_attributes`, `calculate_all`, `face_rectangle`.',
  },
  {
    method: 'POST', path: '/face/detect', dialect: 'youtu', tag: 'Tencent Youtu',
    operationId: 'youtuDetect', summary: 'Tencent Youtu face/detect',
    description: 'JSON `{appid, mode, url}` or multipart `appid`, `mode`, `image`; mode 1 = the largest face only.',
  },
  {
    method: 'POST', path: '/green/face/detect', dialect: 'alibaba', tag: 'Alibaba Green',
    operationId: 'alibabaFaceDetect', summary: 'Alibaba Cloud Content Moderation face attribute detection',
    description: 'JSON `{url, dataId?, bizType?}` (a body without Content-Type is read as JSON, as `@alicloud/pop-core` sends it).',
  },
  {
    method: 'POST', path: '/rekognition', dialect: 'rekognition', tag: 'AWS Rekognition',
    whenHeader: { name: 'x-amz-target', values: ['RekognitionService.DetectFaces'] },
    operationId: 'rekognitionDetectFaces', summary: 'AWS Rekognition DetectFaces (JSON 1.1 protocol)',
    description: '`X-Amz-Target: RekognitionService.DetectFaces`, `Content-Type: application/x-amz-json-1.1`, body `{Image: {Bytes | S3Object}, Attributes?}`: point `RekognitionClient` at `<endpoint>/rekognition`.',
  },
  {
    method: 'GET', path: '/ci/{key+}', dialect: 'tencent-ci', tag: 'Tencent CI', requiresCiBucket: true,
    operationId: 'ciDetectFaceAlias', summary: 'Tencent CI DetectFace, /ci/ alias',
    description: `${CI_DESCRIPTION} The object key is the path after \`/ci/\`.`,
  },
  {
    method: 'GET', path: '/health', dialect: 'service', page: 'health', tag: 'service',
    operationId: 'health', summary: 'Liveness: models loaded, facekit and model versions',
    description: 'Answers 200 once every model is loaded (the process does not serve before that).',
  },
  {
    method: 'GET', path: '/openapi.json', dialect: 'service', page: 'openapi', tag: 'service',
    operationId: 'openapi', summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the route table (lib/routes.ts); the examples are answers of the local server.',
  },
  {
    method: 'GET', path: '/docs', dialect: 'service', page: 'docs', tag: 'service',
    operationId: 'docs', summary: 'API reference page (HTML, no external resources)',
    description: 'A self-contained page rendering /openapi.json.',
  },
  // Last: the greedy root path catches every other GET, but only CI-shaped ones (with ci-process).
  {
    method: 'GET', path: '/{proxy+}', dialect: 'tencent-ci', tag: 'Tencent CI', requiresCiBucket: true,
    whenQuery: { name: 'ci-process' },
    operationId: 'ciDetectFace', summary: 'Tencent CI DetectFace at COS\'s own path',
    description: `${CI_DESCRIPTION} The path is the object key, as the COS SDK sends it (\`GET /<key>?ci-process=DetectFace\`).`,
  },
];

/**
 * Request content types API Gateway passes to the function base64-encoded (`isBase64Encoded`),
 * so multipart uploads and raw image bytes arrive intact. JSON and urlencoded bodies stay text.
 */
export const BINARY_MEDIA_TYPES: readonly string[] = [
  'multipart/form-data',
  'application/octet-stream',
  'image/*',
];

/** A route's path as a matcher: literal segments, `{name}` one segment, `{name+}` the rest (after its `/`). */
export interface PathMatch {
  readonly params: Readonly<Record<string, string>>;
}

export function matchPath(pattern: string, path: string): PathMatch | undefined {
  // A trailing slash names the same resource (SDKs append `/` to an endpoint path).
  const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const patternSegments = pattern.split('/').slice(1);
  const pathSegments = normalized.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let index = 0; index < patternSegments.length; index += 1) {
    const segment = patternSegments[index]!;
    const greedy = /^\{(\w+)\+\}$/.exec(segment);
    if (greedy) {
      // `/ci/` matches `/ci/{key+}` with an empty key, so the dialect can name what is missing.
      const rest = path.split('/').slice(index + 1);
      if (rest.length === 0) return undefined;
      params[greedy[1]!] = rest.join('/');
      return { params };
    }
    const actual = pathSegments[index];
    if (actual === undefined) return undefined;
    const single = /^\{(\w+)\}$/.exec(segment);
    if (single) {
      if (actual === '') return undefined;
      params[single[1]!] = actual;
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return pathSegments.length === patternSegments.length ? { params } : undefined;
}
