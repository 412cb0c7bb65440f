/**
 * FaceDetectionApi's props: their documentation, defaults and validation (one place, applied in
 * the constructor before any resource is created). Infrastructure only.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_PROJECT_ROOT } from './image-asset.js';
import { resolveMonitoringOptions, type FacekitMonitoringOptions, type ResolvedMonitoringOptions } from './monitoring.js';
import { decimalGreaterThanPatterns } from './waf.js';

/** How callers authenticate. The values are also the `auth` context values of the stack. */
export enum FacekitAuth {
  /** Every method requires AWS_IAM: SigV4-signed requests from principals given `grantInvoke`. */
  IAM = 'iam',
  /**
   * Every method requires an API key (header `x-api-key`), with a usage plan that applies the
   * stage throttling and the optional quota per key.
   */
  API_KEY = 'apiKey',
}

/** API Gateway's maximum integration timeout (without a quota increase). */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;
/** API Gateway's hard limit on a REST API request payload (10 MB). */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** Environment variables the construct sets itself; `environment` may not override them. */
const RESERVED_ENV = new Set([
  'FACEKIT_S3_BUCKETS',
  'FACEKIT_CI_BUCKET',
  'FACEKIT_MAX_IMAGE_BYTES',
  'FACEKIT_MODEL_DIR',
]);

export interface FaceDetectionApiProps {
  /**
   * Memory of the Lambda function in MB (128..10240). CPU scales with memory
   * (about 1 vCPU per 1769 MB), and ONNX inference is CPU-bound.
   * @default 8192
   */
  readonly memorySize?: number;

  /**
   * Function timeout. Must be below API Gateway's 29 s integration timeout, or callers would get a
   * 504 from API Gateway while the function keeps running (and billing).
   * @default Duration.seconds(28)
   */
  readonly timeout?: Duration;

  /**
   * Instruction set of the function (and of the container image built for it).
   * Building ARM_64 on an x86 machine needs Docker buildx with QEMU emulation.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Buckets the function may read images from with `s3://bucket/key` URLs, granted with
   * `bucket.grantRead(fn)` (so a KMS-encrypted bucket's key also allows decryption).
   * @default - no bucket: s3:// URLs are refused
   */
  readonly sourceBuckets?: s3.IBucket[];

  /**
   * Bucket the Tencent CI route `GET /ci/{key+}` reads objects from. The route only exists when
   * this is set; the bucket is also readable through s3:// URLs.
   * @default - no CI route
   */
  readonly ciBucket?: s3.IBucket;

  /**
   * How callers authenticate (see FacekitAuth).
   * @default FacekitAuth.IAM
   */
  readonly auth?: FacekitAuth;

  /**
   * Steady-state requests per second, for the whole stage (and per API key in `apiKey` mode).
   * @default 50
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of concurrent requests, for the whole stage (and per API key in `apiKey` mode).
   * @default 100
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Requests per API key per `apiKeyQuotaPeriod`. Only with `auth: FacekitAuth.API_KEY`.
   * @default - no quota
   */
  readonly apiKeyQuotaLimit?: number;

  /**
   * Period of `apiKeyQuotaLimit`. Only with `auth: FacekitAuth.API_KEY` and `apiKeyQuotaLimit`.
   * @default apigw.Period.DAY
   */
  readonly apiKeyQuotaPeriod?: apigw.Period;

  /**
   * Retention of the function's log group, the API access log group and the API execution log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What `cdk destroy` does with those log groups.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * Reserved concurrent executions of the function: caps cost and protects the rest of the
   * account's Lambda concurrency.
   * @default - no reservation (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;

  /**
   * Put a WAFv2 web ACL on the stage with a request size rule (HTTP 413) and a per-IP rate-based
   * rule (HTTP 429). Costs about 5 USD/month for the web ACL, 1 USD/month per rule, plus
   * 0.60 USD per million requests (list prices; see docs/deploy.md).
   * @default true
   */
  readonly wafEnabled?: boolean;

  /**
   * Requests per source IP per 5 minutes before WAF blocks that IP (10..2,000,000,000).
   * Only with `wafEnabled`.
   * @default 1000
   */
  readonly wafRateLimit?: number;

  /**
   * Largest request body accepted, in bytes (1..10 MiB, API Gateway's own limit). Enforced by the
   * WAF rule (on Content-Length) and passed to the function as `FACEKIT_MAX_IMAGE_BYTES`, which also
   * caps images fetched from URLs. Note that the Lambda invocation payload limit (6 MB, with binary
   * bodies base64-encoded) caps inline uploads to about 4.5 MB of binary data whatever this says.
   * @default 10 MiB (10485760)
   */
  readonly maxRequestBodyBytes?: number;

  /**
   * Extra `FACEKIT_*` tuning variables for the function (e.g. `FACEKIT_MIN_CONFIDENCE`).
   * Keys set by the construct itself (FACEKIT_S3_BUCKETS, FACEKIT_CI_BUCKET, FACEKIT_MAX_IMAGE_BYTES,
   * FACEKIT_MODEL_DIR) and `FACEKIT_TEST_*` keys are refused. Values are visible to anyone who can
   * read the function configuration: do not put secrets here.
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * Docker build context; must contain `lambda/Dockerfile`, `dist/lambda/` and `models/`.
   * @default - the project root (the folder above lib/)
   */
  readonly imageAssetDirectory?: string;

  /**
   * Name of the API Gateway stage (the first path segment of the endpoint URL).
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * X-Ray tracing on the stage and the function.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * Create the regional API Gateway account setting (a role with the AWS managed policy
   * AmazonAPIGatewayPushToCloudWatchLogs) that execution and access logging need. It is one
   * setting per account and region and is retained on `cdk destroy`; set `false` when the account
   * already has it.
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;

  /**
   * CloudWatch dashboard and alarms (5xx rate, p95 latency, throttles); see FacekitMonitoringOptions
   * for each default.
   * @default - a dashboard and the three alarms, without alarm actions
   */
  readonly monitoring?: FacekitMonitoringOptions;
}


export interface ResolvedProps {
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly architecture: lambda.Architecture;
  readonly sourceBuckets: s3.IBucket[];
  readonly ciBucket?: s3.IBucket;
  readonly auth: FacekitAuth;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  readonly apiKeyQuotaLimit?: number;
  readonly apiKeyQuotaPeriod: apigw.Period;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly reservedConcurrency?: number;
  readonly wafEnabled: boolean;
  readonly wafRateLimit: number;
  readonly maxRequestBodyBytes: number;
  readonly environment: Record<string, string>;
  readonly imageAssetDirectory: string;
  readonly stageName: string;
  readonly tracing: boolean;
  readonly apiGatewayCloudWatchRole: boolean;
  readonly monitoring: ResolvedMonitoringOptions;
}

function fail(message: string): never {
  throw new Error(`FaceDetectionApi: ${message}`);
}

/** Throws `<construct>: <name> must be an integer in min..max` unless it is one (tokens refused). */
export function checkInteger(construct: string, name: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) throw new Error(`${construct}: ${name} must be a concrete number, not a token`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${construct}: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

const checkPropInteger = (name: string, value: number, min: number, max: number): void => checkInteger('FaceDetectionApi', name, value, min, max);

/** Applies defaults and validates every prop; throws on the first bad value. */
export function resolveProps(props: FaceDetectionApiProps): ResolvedProps {
  const memorySize = props.memorySize ?? 8192;
  checkPropInteger('memorySize', memorySize, 128, 10240);

  const timeout = props.timeout ?? Duration.seconds(28);
  const timeoutMs = timeout.toMilliseconds();
  if (timeoutMs < 1000 || timeoutMs % 1000 !== 0) {
    fail(`timeout must be a whole number of seconds, at least 1 s, got ${timeout.toHumanString()}`);
  }
  if (timeoutMs >= API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS * 1000) {
    fail(`timeout must be below API Gateway's ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s integration timeout, got ${timeout.toHumanString()}`);
  }

  const architecture = props.architecture ?? lambda.Architecture.X86_64;
  if (architecture.name !== lambda.Architecture.X86_64.name && architecture.name !== lambda.Architecture.ARM_64.name) {
    fail(`architecture must be X86_64 or ARM_64, got ${architecture.name}`);
  }

  const auth = props.auth ?? FacekitAuth.IAM;
  if (!Object.values(FacekitAuth).includes(auth)) {
    fail(`auth must be one of ${Object.keys(FacekitAuth).map((name) => `FacekitAuth.${name}`).join(', ')}, got '${String(auth)}'`);
  }

  const throttlingRateLimit = props.throttlingRateLimit ?? 50;
  if (!Number.isFinite(throttlingRateLimit) || throttlingRateLimit < 0) {
    fail(`throttlingRateLimit must be a number >= 0 (requests per second), got ${throttlingRateLimit}`);
  }
  const throttlingBurstLimit = props.throttlingBurstLimit ?? 100;
  checkPropInteger('throttlingBurstLimit', throttlingBurstLimit, 0, 5000);

  if (auth !== FacekitAuth.API_KEY) {
    if (props.apiKeyQuotaLimit !== undefined) fail(`apiKeyQuotaLimit needs auth: FacekitAuth.API_KEY (auth is '${auth}')`);
    if (props.apiKeyQuotaPeriod !== undefined) fail(`apiKeyQuotaPeriod needs auth: FacekitAuth.API_KEY (auth is '${auth}')`);
  }
  if (props.apiKeyQuotaLimit !== undefined) checkPropInteger('apiKeyQuotaLimit', props.apiKeyQuotaLimit, 1, Number.MAX_SAFE_INTEGER);
  if (props.apiKeyQuotaPeriod !== undefined && props.apiKeyQuotaLimit === undefined) {
    fail('apiKeyQuotaPeriod needs apiKeyQuotaLimit');
  }

  if (props.reservedConcurrency !== undefined) checkPropInteger('reservedConcurrency', props.reservedConcurrency, 1, 100000);

  const wafEnabled = props.wafEnabled ?? true;
  if (!wafEnabled && props.wafRateLimit !== undefined) fail('wafRateLimit needs wafEnabled: true');
  const wafRateLimit = props.wafRateLimit ?? 1000;
  checkPropInteger('wafRateLimit', wafRateLimit, 10, 2_000_000_000);

  const maxRequestBodyBytes = props.maxRequestBodyBytes ?? API_GATEWAY_MAX_PAYLOAD_BYTES;
  checkPropInteger('maxRequestBodyBytes', maxRequestBodyBytes, 1, API_GATEWAY_MAX_PAYLOAD_BYTES);
  decimalGreaterThanPatterns(maxRequestBodyBytes);

  const environment = { ...(props.environment ?? {}) };
  for (const [key, value] of Object.entries(environment)) {
    if (!/^FACEKIT_[A-Z0-9_]+$/.test(key)) fail(`environment key ${key} must match FACEKIT_[A-Z0-9_]+`);
    if (RESERVED_ENV.has(key)) fail(`environment key ${key} is set by the construct; use its prop instead`);
    if (key.startsWith('FACEKIT_TEST_')) fail(`environment key ${key} is for tests only and must not be deployed`);
    if (typeof value !== 'string') fail(`environment value of ${key} must be a string`);
  }

  const stageName = props.stageName ?? 'prod';
  if (!/^[A-Za-z0-9_]{1,128}$/.test(stageName)) fail(`stageName must match [A-Za-z0-9_]{1,128}, got '${stageName}'`);

  return {
    memorySize,
    timeout,
    architecture,
    sourceBuckets: [...(props.sourceBuckets ?? [])],
    ciBucket: props.ciBucket,
    auth,
    throttlingRateLimit,
    throttlingBurstLimit,
    apiKeyQuotaLimit: props.apiKeyQuotaLimit,
    apiKeyQuotaPeriod: props.apiKeyQuotaPeriod ?? apigw.Period.DAY,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    reservedConcurrency: props.reservedConcurrency,
    wafEnabled,
    wafRateLimit,
    maxRequestBodyBytes,
    environment,
    imageAssetDirectory: props.imageAssetDirectory ?? DEFAULT_PROJECT_ROOT,
    stageName,
    tracing: props.tracing ?? false,
    apiGatewayCloudWatchRole: props.apiGatewayCloudWatchRole ?? true,
    monitoring: resolveMonitoringOptions(props.monitoring),
  };
}
