/**
 * docs/openapi.json: valid OpenAPI 3.1 (@readme/openapi-parser), generated from the route table as
 * it is now, served as is by GET /openapi.json, and its examples are the answers of the running
 * local server (each example request sent again; ids and timings masked). Also GET /health and the
 * self-contained GET /docs page, rendered by a real browser (Chromium via playwright-core; the test
 * fails with the reason when no Chromium is installed: Debian package chromium).
 */
import { compileErrors, validate } from '@readme/openapi-parser';
import { existsSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

import { buildOpenApiDocument, openApiPath, type OpenApiExamples } from '../../lib/openapi.js';
import { FACEKIT_ROUTES } from '../../lib/routes.js';
import {
  EXAMPLE_CASES, maskVolatile, OPENAPI_FILE, packageVersion, sendExample, serializeDocument, startExampleEnvironment, type ExampleEnvironment,
} from '../../scripts/openapi-examples.js';

const text = readFileSync(OPENAPI_FILE, 'utf8');
const document = JSON.parse(text) as { paths: Record<string, Record<string, unknown>>; 'x-facekit-examples': OpenApiExamples; info: { version: string } };
let environment: ExampleEnvironment;

beforeAll(async () => {
  environment = await startExampleEnvironment();
}, 120_000);

afterAll(async () => {
  await environment?.stop();
});

test('validates as OpenAPI 3.1', async () => {
  const result = await validate(JSON.parse(text));
  if (!result.valid) throw new Error(compileErrors(result));
  expect(result.valid).toBe(true);
});

test('is the route table\'s document now (run `npm run openapi` after changing routes)', () => {
  expect(text).toBe(serializeDocument(buildOpenApiDocument(packageVersion(), document['x-facekit-examples'])));
  for (const route of FACEKIT_ROUTES) expect(document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()]).toBeDefined();
  const cases = EXAMPLE_CASES.map((example) => `${example.operationId}/${example.name}`).sort();
  expect(Object.entries(document['x-facekit-examples']).flatMap(([id, items]) => Object.keys(items).map((name) => `${id}/${name}`)).sort()).toEqual(cases);
});

test('every example is the answer the local server gives to its request', async () => {
  for (const example of EXAMPLE_CASES) {
    const stored = document['x-facekit-examples'][example.operationId]![example.name]!.response;
    const answer = await sendExample(environment.server.url, example, environment.imagesBase);
    expect({ example: `${example.operationId}/${example.name}`, ...(maskVolatile(answer) as object) })
      .toEqual({ example: `${example.operationId}/${example.name}`, ...(maskVolatile(stored) as object) });
  }
});

test('GET /openapi.json serves the file; GET /health; GET /docs loads nothing from elsewhere', async () => {
  const served = await fetch(`${environment.server.url}/openapi.json`);
  expect(served.status).toBe(200);
  expect(await served.json()).toEqual(JSON.parse(text));
  const health = await fetch(`${environment.server.url}/health`);
  expect(await health.json()).toEqual({ status: 'ok', modelsLoaded: true, version: document.info.version, faceModelVersion: expect.stringMatching(/^facekit-/) });
  const docs = await fetch(`${environment.server.url}/docs`);
  expect(docs.status).toBe(200);
  expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
  const page = await docs.text();
  expect(page).toContain('SwaggerUIBundle({');
  expect(page).not.toMatch(/<(script|link|img)\b[^>]*\b(src|href)=["']?(https?:)?\/\//i);
});

/** The browser binary: CHROMIUM_PATH, else Debian's chromium. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test('GET /docs renders every operation in a real browser, with no request leaving the server', async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const origin = new URL(environment.server.url).origin;
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
    await page.goto(`${environment.server.url}/docs`, { waitUntil: 'networkidle' });
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((node) => node.getAttribute('data-path')));
    expect(paths).toHaveLength(FACEKIT_ROUTES.length);
    for (const route of FACEKIT_ROUTES) expect(paths).toContain(openApiPath(route.path));
    expect(elsewhere).toEqual([]);
  } finally {
    await browser.close();
  }
});

