/**
 * AWS Lambda entry (API Gateway REST API, proxy integration, payload v1). A thin adapter: the
 * event becomes an HttpRequest, the shared router answers, the answer becomes a proxy result.
 * Models load during the init phase (top-level await), so a missing or corrupt model fails the
 * init with a clear message instead of a 500 on every request.
 *
 * Powertools middlewares (https://docs.aws.amazon.com/powertools/typescript/latest/core/):
 * injectLambdaContext adds the function's context to every log line, logMetrics flushes the
 * request's EMF metrics (and the ColdStart metric) at the end of each invocation, and
 * captureLambdaHandler opens the X-Ray segment (a no-op when tracing is off).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { HttpRequest, HttpResponse } from './api/http.js';
import { logger, metrics, requestObserver, tracer } from './observability.js';
import { createRouter } from './router.js';
import { createRuntime } from './runtime.js';

/** The fields of an API Gateway REST proxy event facekit reads. */
export interface ApiGatewayProxyEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly requestId?: string; readonly path?: string; readonly stage?: string };
  readonly pathParameters?: Record<string, string | undefined> | null;
}

export interface ApiGatewayProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

function lowerCaseKeys(record: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) if (value !== undefined) result[key.toLowerCase()] = value;
  return result;
}

function definedValues(record: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) if (value !== undefined) result[key] = value;
  return result;
}

export function toHttpRequest(event: ApiGatewayProxyEvent, requestId: string): HttpRequest {
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  return {
    method: event.httpMethod,
    // `path` is the resource path as the client sent it (no stage prefix).
    path: event.path,
    query: definedValues(event.queryStringParameters),
    headers: lowerCaseKeys(event.headers),
    body,
    requestId: event.requestContext?.requestId ?? requestId,
  };
}

export function toProxyResult(response: HttpResponse): ApiGatewayProxyResult {
  return { statusCode: response.status, headers: { ...response.headers }, body: response.body, isBase64Encoded: false };
}

const router = createRouter(await createRuntime(), { log: requestObserver({ logger, metrics }) });

export const handler = middy<ApiGatewayProxyEvent, ApiGatewayProxyResult>()
  // Responses (landmarks, attributes) can be large and describe people: never copied into traces.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  // The event holds the image (base64): never logged, even with POWERTOOLS_LOGGER_LOG_EVENT=true.
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event, context) => toProxyResult(await router.handle(toHttpRequest(event, context.awsRequestId))));
