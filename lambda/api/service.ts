/**
 * The pages the router serves itself: `GET /health`, `GET /openapi.json` (docs/openapi.json,
 * generated from the route table by `npm run openapi`) and `GET /docs` (Swagger UI from the
 * swagger-ui-dist package, inlined: the page loads nothing from elsewhere).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import openApiDocument from '../../docs/openapi.json' with { type: 'json' };
import type { ServicePage } from '../../lib/routes.js';
import type { FacekitConfig } from '../config.js';
import { jsonResponse, type HttpRequest, type HttpResponse } from './http.js';

export { openApiDocument };

/** The facekit release the document describes (package.json version, copied into the document). */
export const FACEKIT_VERSION: string = openApiDocument.info.version;

export interface HealthBody {
  readonly status: 'ok';
  /** Always true: the process loads every model before it serves (lambda/runtime.ts). */
  readonly modelsLoaded: true;
  readonly version: string;
  readonly faceModelVersion: string;
}

export function healthBody(config: FacekitConfig): HealthBody {
  return { status: 'ok', modelsLoaded: true, version: FACEKIT_VERSION, faceModelVersion: config.faceModelVersion };
}

/** Swagger UI's files, read once; undefined where the package is not installed. */
let swaggerAssets: { script: string; css: string } | undefined | null = null;

function loadSwaggerAssets(): { script: string; css: string } | undefined {
  if (swaggerAssets !== null) return swaggerAssets;
  try {
    const require = createRequire(import.meta.url);
    const read = (file: string): string => readFileSync(require.resolve(`swagger-ui-dist/${file}`), 'utf8');
    swaggerAssets = { script: read('swagger-ui-bundle.js'), css: read('swagger-ui.css') };
  } catch {
    swaggerAssets = undefined;
  }
  return swaggerAssets;
}

/** `</script` inside inlined code would end the element early. */
function inlineScript(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script');
}

export function docsPage(): string {
  const assets = loadSwaggerAssets();
  const title = `${openApiDocument.info.title} ${FACEKIT_VERSION}`;
  if (!assets) {
    // Without the package: the document itself, readable, still with no external resource.
    return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>` +
      `<p>Swagger UI (swagger-ui-dist) is not installed here; the document is at <a href="openapi.json">openapi.json</a>.</p></body></html>`;
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${assets.css}</style></head>` +
    `<body><div id="swagger-ui"></div><script>${inlineScript(assets.script)}</script>` +
    // A relative URL, so the page works under an API Gateway stage prefix too.
    `<script>window.ui = SwaggerUIBundle({ url: new URL('openapi.json', location.href).href, dom_id: '#swagger-ui', deepLinking: true });</script>` +
    `</body></html>`;
}

export function servicePage(page: ServicePage, config: FacekitConfig, _request: HttpRequest): HttpResponse {
  switch (page) {
    case 'health':
      return jsonResponse(200, healthBody(config), { 'cache-control': 'no-store' });
    case 'openapi':
      return jsonResponse(200, openApiDocument);
    case 'docs':
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: docsPage() };
  }
}
