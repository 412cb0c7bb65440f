/** Every dialect the router serves, by the name the route table (lib/routes.ts) gives it. */
import type { DialectName } from '../../lib/routes.js';
import { alibabaDialect } from './alibaba.js';
import type { Dialect } from './dialect.js';
import { faceppDialect } from './facepp.js';
import { nativeDialect } from './native.js';
import { rekognitionDialect } from './rekognition.js';
import { tencentCiDialect } from './tencent-ci.js';
import { youtuDialect } from './youtu.js';

export const DIALECTS: Readonly<Record<DialectName, Dialect<any>>> = {
  native: nativeDialect,
  facepp: faceppDialect,
  'tencent-ci': tencentCiDialect,
  youtu: youtuDialect,
  alibaba: alibabaDialect,
  rekognition: rekognitionDialect,
};
