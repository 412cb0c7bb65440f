/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of the route table
 * (lib/openapi.ts) with examples that are the answers of the local server (scripts/openapi-examples.ts).
 * Needs the built server bundle; the npm script builds before and after (the bundle serves the file).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { buildOpenApiDocument } from '../lib/openapi.js';
import { REPO_ROOT } from '../test/helpers/local-server.js';
import { captureExamples, OPENAPI_FILE, packageVersion, serializeDocument, startExampleEnvironment } from './openapi-examples.js';

const environment = await startExampleEnvironment();
try {
  const examples = await captureExamples(environment);
  writeFileSync(OPENAPI_FILE, serializeDocument(buildOpenApiDocument(packageVersion(), examples)));
  console.log(`wrote ${path.relative(REPO_ROOT, OPENAPI_FILE)} (${Object.values(examples).reduce((sum, items) => sum + Object.keys(items).length, 0)} examples)`);
} finally {
  await environment.stop();
}
