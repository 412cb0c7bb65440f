/**
 * The facekit stack: one FaceDetectionApi, configured from CDK context so a deployment needs no
 * code change, e.g.
 *
 *   npx cdk deploy -c sourceBuckets=photos-a,photos-b -c auth=apiKey -c ciBucket=ci-images
 *
 * Context keys (all optional; see docs/deploy.md): sourceBuckets, ciBucket, auth, memorySize,
 * timeoutSeconds, architecture, throttlingRateLimit, throttlingBurstLimit, apiKeyQuotaLimit,
 * apiKeyQuotaPeriod, logRetentionDays, reservedConcurrency, wafEnabled, wafRateLimit,
 * maxRequestBodyBytes, stageName, tracing, apiGatewayCloudWatchRole, and any FACEKIT_* key, which is
 * passed to the function as an environment variable.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FaceDetectionApi, type FaceDetectionApiProps, type FacekitAuth } from './face-detection-api.js';

export interface FacekitStackProps extends StackProps {
  /**
   * Props merged over those read from context (for tests and programmatic use).
   * @default - context only
   */
  readonly api?: FaceDetectionApiProps;
}

export class FacekitStack extends Stack {
  public readonly faceApi: FaceDetectionApi;

  constructor(scope: Construct, id: string, props: FacekitStackProps = {}) {
    super(scope, id, props);
    const fromContext = propsFromContext(this);
    this.faceApi = new FaceDetectionApi(this, 'FaceDetection', { ...fromContext, ...props.api });
  }
}

/** Reads FaceDetectionApi props from CDK context (`-c key=value` or cdk.json "context"). */
export function propsFromContext(scope: Construct): FaceDetectionApiProps {
  const ctx = (key: string): unknown => scope.node.tryGetContext(key);

  const sourceBucketNames = list(ctx('sourceBuckets'), 'sourceBuckets');
  const ciBucketName = str(ctx('ciBucket'), 'ciBucket');
  const auth = str(ctx('auth'), 'auth');
  if (auth !== undefined && auth !== 'iam' && auth !== 'apiKey') {
    throw new Error(`context auth must be 'iam' or 'apiKey', got '${auth}'`);
  }
  const arch = str(ctx('architecture'), 'architecture')?.toLowerCase();
  let architecture: lambda.Architecture | undefined;
  if (arch === 'x86_64' || arch === 'amd64') architecture = lambda.Architecture.X86_64;
  else if (arch === 'arm64' || arch === 'arm_64') architecture = lambda.Architecture.ARM_64;
  else if (arch !== undefined) throw new Error(`context architecture must be x86_64 or arm64, got '${arch}'`);

  const retentionDays = num(ctx('logRetentionDays'), 'logRetentionDays');
  if (retentionDays !== undefined && !Object.values(logs.RetentionDays).includes(retentionDays)) {
    throw new Error(`context logRetentionDays must be one of CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, ...), got ${retentionDays}`);
  }
  const quotaPeriod = str(ctx('apiKeyQuotaPeriod'), 'apiKeyQuotaPeriod')?.toUpperCase();
  if (quotaPeriod !== undefined && !['DAY', 'WEEK', 'MONTH'].includes(quotaPeriod)) {
    throw new Error(`context apiKeyQuotaPeriod must be DAY, WEEK or MONTH, got '${quotaPeriod}'`);
  }
  const timeoutSeconds = num(ctx('timeoutSeconds'), 'timeoutSeconds');

  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(allContext(scope))) {
    if (key.startsWith('FACEKIT_')) environment[key] = String(value);
  }

  const props: FaceDetectionApiProps = {
    sourceBuckets: sourceBucketNames?.map((name, i) => s3.Bucket.fromBucketName(scope, `SourceBucket${i}`, name)),
    ciBucket: ciBucketName ? s3.Bucket.fromBucketName(scope, 'CiBucket', ciBucketName) : undefined,
    auth: auth as FacekitAuth | undefined,
    memorySize: num(ctx('memorySize'), 'memorySize'),
    timeout: timeoutSeconds !== undefined ? Duration.seconds(timeoutSeconds) : undefined,
    architecture,
    throttlingRateLimit: num(ctx('throttlingRateLimit'), 'throttlingRateLimit'),
    throttlingBurstLimit: num(ctx('throttlingBurstLimit'), 'throttlingBurstLimit'),
    apiKeyQuotaLimit: num(ctx('apiKeyQuotaLimit'), 'apiKeyQuotaLimit'),
    apiKeyQuotaPeriod: quotaPeriod as apigw.Period | undefined,
    logRetention: retentionDays as logs.RetentionDays | undefined,
    reservedConcurrency: num(ctx('reservedConcurrency'), 'reservedConcurrency'),
    wafEnabled: bool(ctx('wafEnabled'), 'wafEnabled'),
    wafRateLimit: num(ctx('wafRateLimit'), 'wafRateLimit'),
    maxRequestBodyBytes: num(ctx('maxRequestBodyBytes'), 'maxRequestBodyBytes'),
    stageName: str(ctx('stageName'), 'stageName'),
    tracing: bool(ctx('tracing'), 'tracing'),
    apiGatewayCloudWatchRole: bool(ctx('apiGatewayCloudWatchRole'), 'apiGatewayCloudWatchRole'),
    environment: Object.keys(environment).length > 0 ? environment : undefined,
  };
  // Drop undefined so the construct's defaults apply and spreading over it stays clean.
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as FaceDetectionApiProps;
}

function allContext(scope: Construct): Record<string, unknown> {
  // node.getAllContext() merges the app's context (cdk.json, -c flags) with construct-level context.
  return scope.node.getAllContext() as Record<string, unknown>;
}

function str(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`context ${key} must be a string`);
  return String(value).trim();
}

function num(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n)) throw new Error(`context ${key} must be a number, got '${String(value)}'`);
  return n;
}

function bool(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw new Error(`context ${key} must be true or false, got '${String(value)}'`);
}

function list(value: unknown, key: string): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const names = items.map((s) => s.trim()).filter((s) => s.length > 0);
  for (const name of names) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw new Error(`context ${key}: '${name}' is not a valid S3 bucket name`);
  }
  return names.length > 0 ? names : undefined;
}
