/**
 * The OpenAPI 3.1 document of facekit, generated from the route table (lib/routes.ts): one
 * operation per entry. Request/response examples are answers of the running local server,
 * captured by `npm run openapi` (scripts/openapi.ts), which writes docs/openapi.json.
 * Pure: imports nothing from lambda/ or aws-cdk-lib.
 */
import { FACEKIT_ROUTES, type FacekitRoute } from './routes.js';

export interface OpenApiExample {
  /** Request: media type and body (a JSON value, or a string for form bodies), plus query and headers. */
  readonly request?: {
    readonly contentType?: string;
    readonly body?: unknown;
    readonly query?: Readonly<Record<string, string>>;
    readonly headers?: Readonly<Record<string, string>>;
    /** Path the example was sent to (greedy routes: with a concrete key). */
    readonly path?: string;
  };
  readonly response: { readonly status: number; readonly contentType: string; readonly body: unknown };
  readonly summary: string;
}

/** Examples per operationId and example name. */
export type OpenApiExamples = Readonly<Record<string, Readonly<Record<string, OpenApiExample>>>>;

const REQUEST_CONTENT_TYPES: Record<string, readonly string[]> = {
  native: ['application/json'],
  facepp: ['multipart/form-data', 'application/x-www-form-urlencoded'],
  youtu: ['application/json', 'multipart/form-data'],
  alibaba: ['application/json'],
  rekognition: ['application/x-amz-json-1.1'],
};

function pathParameters(route: FacekitRoute): unknown[] {
  return [...route.path.matchAll(/\{(\w+)(\+?)\}/g)].map(([, name, greedy]) => ({
    name,
    in: 'path',
    required: true,
    description: greedy ? 'The rest of the path, `/` included (an API Gateway greedy parameter): the object key.' : undefined,
    schema: { type: 'string' },
  }));
}

function conditionParameters(route: FacekitRoute): unknown[] {
  const parameters: unknown[] = [];
  if (route.whenHeader) {
    parameters.push({
      name: route.whenHeader.name, in: 'header', required: true,
      schema: route.whenHeader.values ? { type: 'string', enum: route.whenHeader.values } : { type: 'string' },
    });
  }
  if (route.whenQuery) {
    parameters.push({ name: route.whenQuery.name, in: 'query', required: true, schema: { type: 'string', enum: ['DetectFace', 'detect-face'] } });
  }
  if (route.dialect === 'tencent-ci') {
    if (!route.whenQuery) parameters.push({ name: 'ci-process', in: 'query', required: true, schema: { type: 'string', enum: ['DetectFace', 'detect-face'] } });
    parameters.push({ name: 'max-face-num', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 120, default: 1 } });
  }
  return parameters;
}

function examplesFor(route: FacekitRoute, examples: OpenApiExamples): Array<[string, OpenApiExample]> {
  return Object.entries(examples[route.operationId] ?? {});
}

function requestBody(route: FacekitRoute, examples: Array<[string, OpenApiExample]>): unknown {
  const types = REQUEST_CONTENT_TYPES[route.dialect];
  if (!types) return undefined;
  const content: Record<string, unknown> = {};
  for (const type of types) {
    const matching = examples.filter(([, example]) => example.request?.contentType === type && example.request.body !== undefined);
    content[type] = {
      schema: type.includes('json') ? { type: 'object' } : { type: 'object', additionalProperties: true },
      ...(matching.length > 0 ? { examples: Object.fromEntries(matching.map(([name, example]) => [name, { summary: example.summary, value: example.request!.body }])) } : {}),
    };
  }
  return { required: true, content };
}

function responses(route: FacekitRoute, examples: Array<[string, OpenApiExample]>): Record<string, unknown> {
  const byStatus = new Map<number, Map<string, Array<[string, OpenApiExample]>>>();
  for (const entry of examples) {
    const { status, contentType } = entry[1].response;
    const types = byStatus.get(status) ?? new Map<string, Array<[string, OpenApiExample]>>();
    types.set(contentType, [...(types.get(contentType) ?? []), entry]);
    byStatus.set(status, types);
  }
  if (!byStatus.has(200)) byStatus.set(200, new Map());
  const out: Record<string, unknown> = {};
  for (const [status, types] of [...byStatus].sort(([a], [b]) => a - b)) {
    const content: Record<string, unknown> = {};
    for (const [type, entries] of types) {
      content[type] = {
        schema: type.includes('json') ? {} : { type: 'string' },
        examples: Object.fromEntries(entries.map(([name, example]) => [name, { summary: example.summary, value: example.response.body }])),
      };
    }
    out[String(status)] = {
      description: status < 400 ? 'Answer' : 'Error, in the dialect\'s own error shape',
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }
  return out;
}

/** OpenAPI has no greedy parameter: `{key+}` (API Gateway) is written `{key}`, described as spanning `/`. */
export function openApiPath(path: string): string {
  return path.replace(/\{(\w+)\+\}/g, '{$1}');
}

export function buildOpenApiDocument(version: string, examples: OpenApiExamples = {}, routes: readonly FacekitRoute[] = FACEKIT_ROUTES): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    // Two table entries on one path and method (none today) would need one merged operation.
    const operations = (paths[openApiPath(route.path)] ??= {});
    const routeExamples = examplesFor(route, examples);
    const parameters = [...pathParameters(route), ...conditionParameters(route)];
    const body = requestBody(route, routeExamples);
    operations[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      description: route.description + (route.requiresCiBucket ? ' Deployed only when the construct has a `ciBucket` (locally: FACEKIT_CI_BUCKET).' : ''),
      tags: [route.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(route, routeExamples),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'facekit',
      version,
      description: 'Self-hosted face detection and analysis, in the dialects of the cloud face APIs (docs/api.md, docs/clients.md).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This server (npm start: http://127.0.0.1:8080; deployed: the API Gateway stage URL)' }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    'x-facekit-examples': examples,
  };
}
