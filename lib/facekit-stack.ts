/**
 * The facekit stack: one FaceDetectionApi and one FaceBatch, configured from CDK context so a
 * deployment needs no code change, e.g.
 *
 *   npx cdk deploy -c sourceBuckets=photos-a,photos-b -c auth=apiKey -c ciBucket=ci-images
 *
 * Context keys (all optional; see docs/deploy.md): sourceBuckets, ciBucket, auth, memorySize,
 * timeoutSeconds, architecture, throttlingRateLimit, throttlingBurstLimit, apiKeyQuotaLimit,
 * apiKeyQuotaPeriod, logRetentionDays, reservedConcurrency, wafEnabled, wafRateLimit,
 * maxRequestBodyBytes, stageName, tracing, apiGatewayCloudWatchRole, dashboard, alarms, and any
 * FACEKIT_* key, which is passed to the functions as an environment variable; for the batch:
 * batch (true/false), batchInput and batchOutput (s3://bucket/prefix/), batchMaxConcurrency,
 * batchToleratedFailurePercentage, batchItemsPerBatch.
 */
import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FaceBatch, type FaceBatchProps, type S3Prefix } from './face-batch.js';
import { FaceDetectionApi, FacekitAuth, type FaceDetectionApiProps } from './face-detection-api.js';

export interface FacekitStackProps extends StackProps {
  /**
   * Props merged over those read from context (for tests and programmatic use).
   * @default - context only
   */
  readonly api?: FaceDetectionApiProps;
  /**
   * Props merged over the batch props read from context; `false` leaves the batch out.
   * @default - context only
   */
  readonly batch?: Partial<FaceBatchProps> | false;
}

export class FacekitStack extends Stack {
  public readonly faceApi: FaceDetectionApi;
  /** The batch over S3 prefixes, unless context `batch=false`. */
  public readonly faceBatch?: FaceBatch;
  /** The bucket the stack creates for the batch when context names no batchInput/batchOutput. */
  public readonly batchBucket?: s3.Bucket;

  constructor(scope: Construct, id: string, props: FacekitStackProps = {}) {
    super(scope, id, props);
    const fromContext = propsFromContext(this);
    const apiProps = { ...fromContext, ...props.api };
    this.faceApi = new FaceDetectionApi(this, 'FaceDetection', apiProps);

    const batchEnabled = props.batch !== false && bool(this.node.tryGetContext('batch'), 'batch') !== false;
    if (batchEnabled) {
      const batchContext = batchPropsFromContext(this);
      let { input, output } = batchContext;
      if (!input || !output) {
        this.batchBucket = new s3.Bucket(this, 'BatchBucket', {
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          // Results are the user's data: `cdk destroy` keeps the bucket.
          removalPolicy: RemovalPolicy.RETAIN,
        });
        Validations.of(this.batchBucket).acknowledge({
          id: 'AwsSolutions-S1',
          reason: 'A staging bucket for batch inputs and results, reachable only by principals of this account given IAM access; enable server access logging or CloudTrail data events if your policy requires it.',
        });
        input ??= { bucket: this.batchBucket, prefix: 'input/' };
        output ??= { bucket: this.batchBucket, prefix: 'output/' };
      }
      const overrides = props.batch ?? {};
      this.faceBatch = new FaceBatch(this, 'FaceBatch', {
        architecture: apiProps.architecture,
        environment: apiProps.environment,
        logRetention: apiProps.logRetention,
        tracing: apiProps.tracing,
        imageAssetDirectory: apiProps.imageAssetDirectory,
        ...batchContext,
        input,
        output,
        ...overrides,
      });
    }
  }
}

/** `s3://bucket/prefix/` → an imported bucket and its prefix. */
function s3PrefixFromContext(scope: Construct, key: string): S3Prefix | undefined {
  const value = str(scope.node.tryGetContext(key), key);
  if (value === undefined) return undefined;
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+\/)$/.exec(value);
  if (!match) throw new Error(`context ${key} must be s3://bucket/prefix/ (a prefix ending with "/"), got '${value}'`);
  return { bucket: s3.Bucket.fromBucketName(scope, `${key}Bucket`, match[1]), prefix: match[2] };
}

/** Reads FaceBatch props from CDK context. */
export function batchPropsFromContext(scope: Construct): Partial<FaceBatchProps> {
  const ctx = (key: string): unknown => scope.node.tryGetContext(key);
  const props: Partial<FaceBatchProps> = {
    input: s3PrefixFromContext(scope, 'batchInput'),
    output: s3PrefixFromContext(scope, 'batchOutput'),
    maxConcurrency: num(ctx('batchMaxConcurrency'), 'batchMaxConcurrency'),
    toleratedFailurePercentage: num(ctx('batchToleratedFailurePercentage'), 'batchToleratedFailurePercentage'),
    maxItemsPerBatch: num(ctx('batchItemsPerBatch'), 'batchItemsPerBatch'),
  };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as Partial<FaceBatchProps>;
}

/** Reads FaceDetectionApi props from CDK context (`-c key=value` or cdk.json "context"). */
export function propsFromContext(scope: Construct): FaceDetectionApiProps {
  const ctx = (key: string): unknown => scope.node.tryGetContext(key);

  const sourceBucketNames = list(ctx('sourceBuckets'), 'sourceBuckets');
  const ciBucketName = str(ctx('ciBucket'), 'ciBucket');
  const authValue = str(ctx('auth'), 'auth');
  const auth = Object.values(FacekitAuth).find((value) => value === authValue);
  if (authValue !== undefined && auth === undefined) {
    throw new Error(`context auth must be ${Object.values(FacekitAuth).map((value) => `'${value}'`).join(' or ')}, got '${authValue}'`);
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
    auth,
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
    monitoring: monitoringFromContext(scope),
    environment: Object.keys(environment).length > 0 ? environment : undefined,
  };
  // Drop undefined so the construct's defaults apply and spreading over it stays clean.
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as FaceDetectionApiProps;
}

function monitoringFromContext(scope: Construct): FaceDetectionApiProps['monitoring'] {
  const dashboard = bool(scope.node.tryGetContext('dashboard'), 'dashboard');
  const alarms = bool(scope.node.tryGetContext('alarms'), 'alarms');
  if (dashboard === undefined && alarms === undefined) return undefined;
  return { ...(dashboard !== undefined ? { dashboard } : {}), ...(alarms !== undefined ? { alarms } : {}) };
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
