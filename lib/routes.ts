/**
 * The HTTP routes facekit's API Gateway exposes. This is the single place to add, remove or rename
 * a route: the construct creates one method per entry, all with the same authorization and the
 * same Lambda proxy integration (the function's router decides which dialect answers).
 *
 * Infrastructure only: nothing here is imported from, or by, the Lambda runtime.
 */
export interface FacekitRoute {
  /** HTTP method of the API Gateway method. */
  readonly method: 'GET' | 'POST';
  /** Resource path, starting with `/`; `{name+}` is a greedy path parameter. */
  readonly path: string;
  /** Which API the route speaks (documentation only). */
  readonly dialect: string;
  /**
   * The route is only created when the construct is given a `ciBucket`
   * (the Tencent CI route reads objects from that bucket).
   * @default false
   */
  readonly requiresCiBucket?: boolean;
}

export const FACEKIT_ROUTES: readonly FacekitRoute[] = [
  { method: 'POST', path: '/face_detection', dialect: 'native (AI Solution Kit)' },
  { method: 'POST', path: '/face-detection', dialect: 'native (AI Solution Kit), alias' },
  { method: 'POST', path: '/facepp/v3/detect', dialect: 'Face++' },
  { method: 'POST', path: '/face/detect', dialect: 'Tencent Youtu' },
  { method: 'POST', path: '/green/face/detect', dialect: 'Alibaba Cloud Content Moderation' },
  { method: 'GET', path: '/ci/{key+}', dialect: 'Tencent Cloud CI', requiresCiBucket: true },
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
