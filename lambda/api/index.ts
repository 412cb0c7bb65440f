/** Every dialect the router serves. Add a dialect module here to expose it on every transport. */
import { alibabaDialect } from './alibaba.js';
import type { Dialect } from './dialect.js';
import { faceppDialect } from './facepp.js';
import { nativeDialect } from './native.js';
import { tencentCiDialect } from './tencent-ci.js';
import { youtuDialect } from './youtu.js';

export const DIALECTS: readonly Dialect<any>[] = [nativeDialect, faceppDialect, tencentCiDialect, youtuDialect, alibabaDialect];
