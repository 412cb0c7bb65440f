/**
 * FaceDetectionApi: API Gateway (REST) → container-image Lambda running facekit's ONNX models.
 *
 * Infrastructure only. Nothing in lib/ imports from lambda/: the function is built from
 * `lambda/Dockerfile`, which copies the bundle `npm run build:lambda` writes to `dist/lambda/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BINARY_MEDIA_TYPES, FACEKIT_ROUTES } from './routes.js';
import { FacekitWebAcl, decimalGreaterThanPatterns } from './waf.js';

/** How callers authenticate. */
export type FacekitAuth = 'iam' | 'apiKey';

/** API Gateway's maximum integration timeout (without a quota increase). */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;
/** API Gateway's hard limit on a REST API request payload (10 MB). */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Paths inside the Docker build context (the project root) that never go into the image asset.
 * Docker-ignore syntax: everything is excluded, then only what `lambda/Dockerfile` copies is let
 * back in. This keeps `cdk synth` fast (node_modules is never staged) and the image small.
 */
export const IMAGE_ASSET_EXCLUDE: readonly string[] = [
  '*',
  '!lambda/Dockerfile',
  '!dist/lambda/**',
  '!models/*.onnx',
  '!models/manifest.json',
  // Never, even inside the included folders.
  '**/node_modules',
  '**/.git',
];

/** Environment variables the construct sets itself; `environment` may not override them. */
const RESERVED_ENV = new Set([
  'FACEKIT_S3_BUCKETS',
  'FACEKIT_CI_BUCKET',
  'FACEKIT_MAX_IMAGE_BYTES',
  'FACEKIT_MODEL_DIR',
]);

const DEFAULT_PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

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
   * Buckets the function may read images from with `s3://bucket/key` URLs.
   * The function gets `s3:GetObject` on `bucket/*` of each, nothing else.
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
   * `'iam'`: every method requires AWS_IAM (SigV4-signed requests; grant `execute-api:Invoke`).
   * `'apiKey'`: every method requires an API key (header `x-api-key`), with a usage plan that
   * applies the throttling below and the optional quota.
   * @default 'iam'
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
   * Requests per API key per `apiKeyQuotaPeriod`. Only with `auth: 'apiKey'`.
   * @default - no quota
   */
  readonly apiKeyQuotaLimit?: number;

  /**
   * Period of `apiKeyQuotaLimit`. Only with `auth: 'apiKey'` and `apiKeyQuotaLimit`.
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
}

/**
 * facekit's face detection API: a REST API whose routes (see `FACEKIT_ROUTES`) all proxy to one
 * container-image Lambda function.
 */
export class FaceDetectionApi extends Construct {
  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** The Lambda function running the models. */
  public readonly function: lambda.DockerImageFunction;
  /** Base URL of the deployed stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/`. */
  public readonly endpointUrl: string;
  /** The API key, in `apiKey` mode. */
  public readonly apiKey?: apigw.IApiKey;
  /** The usage plan, in `apiKey` mode. */
  public readonly usagePlan?: apigw.UsagePlan;
  /** The WAF web ACL, when `wafEnabled`. */
  public readonly webAcl?: FacekitWebAcl;

  constructor(scope: Construct, id: string, props: FaceDetectionApiProps = {}) {
    super(scope, id);
    const p = resolveProps(props);

    // ---- logs -----------------------------------------------------------------------------------
    const functionLogGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: p.logRetention,
      removalPolicy: p.logRemovalPolicy,
    });
    const accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: p.logRetention,
      removalPolicy: p.logRemovalPolicy,
    });

    // ---- function -------------------------------------------------------------------------------
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'facekit function: read configured S3 objects, write its own log group',
    });
    // Instead of AWSLambdaBasicExecutionRole: only its own log group (streams inside it).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [functionLogGroup.logGroupArn],
      }),
    );
    const readableBuckets = [...p.sourceBuckets, ...(p.ciBucket ? [p.ciBucket] : [])];
    if (readableBuckets.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: readableBuckets.map((b) => b.arnForObjects('*')),
        }),
      );
    }

    const environment: Record<string, string> = {
      ...p.environment,
      FACEKIT_MAX_IMAGE_BYTES: String(p.maxRequestBodyBytes),
    };
    if (readableBuckets.length > 0) {
      environment.FACEKIT_S3_BUCKETS = readableBuckets.map((b) => b.bucketName).join(',');
    }
    if (p.ciBucket) environment.FACEKIT_CI_BUCKET = p.ciBucket.bucketName;

    this.function = new lambda.DockerImageFunction(this, 'Function', {
      description: 'facekit face detection (ONNX models in a container image)',
      code: lambda.DockerImageCode.fromImageAsset(p.imageAssetDirectory, {
        file: 'lambda/Dockerfile',
        exclude: [...IMAGE_ASSET_EXCLUDE],
        ignoreMode: IgnoreMode.DOCKER,
        platform: p.architecture.name === lambda.Architecture.ARM_64.name ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      }),
      architecture: p.architecture,
      memorySize: p.memorySize,
      timeout: p.timeout,
      role,
      logGroup: functionLogGroup,
      environment,
      reservedConcurrentExecutions: p.reservedConcurrency,
      tracing: p.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    });

    // Synth only stages the build context; the Docker build at deploy time needs the bundle.
    if (!existsSync(join(p.imageAssetDirectory, 'dist', 'lambda', 'index.mjs'))) {
      Annotations.of(this.function).addWarningV2(
        'facekit:lambdaBundleMissing',
        `${join(p.imageAssetDirectory, 'dist', 'lambda', 'index.mjs')} does not exist: run \`npm run build:lambda\` before \`cdk deploy\`, or the image build fails.`,
      );
    }

    // ---- API ------------------------------------------------------------------------------------
    const useApiKey = p.auth === 'apiKey';
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'facekit face detection API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole: p.apiGatewayCloudWatchRole,
      deployOptions: {
        stageName: p.stageName,
        // Execution logs: errors only, never request/response bodies (images).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
        tracingEnabled: p.tracing,
        throttlingRateLimit: p.throttlingRateLimit,
        throttlingBurstLimit: p.throttlingBurstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
      defaultMethodOptions: useApiKey
        ? { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true }
        : { authorizationType: apigw.AuthorizationType.IAM },
    });

    // API Gateway creates `API-Gateway-Execution-Logs_<api id>/<stage>` with no expiry on first use;
    // creating it here gives it the retention and lets `cdk destroy` remove it.
    new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${p.stageName}`,
      retention: p.logRetention,
      removalPolicy: p.logRemovalPolicy,
    });

    const integration = new apigw.LambdaIntegration(this.function, {
      proxy: true,
      // One invoke permission for the whole API rather than two per method.
      scopePermissionToMethod: false,
    });
    for (const route of FACEKIT_ROUTES) {
      if (route.requiresCiBucket && !p.ciBucket) continue;
      const resource = this.api.root.resourceForPath(route.path);
      resource.addMethod(route.method, integration);
    }

    if (useApiKey) {
      this.apiKey = new apigw.ApiKey(this, 'ApiKey', {
        description: 'facekit API key (value: aws apigateway get-api-key --include-value --api-key <id>)',
        enabled: true,
      });
      this.usagePlan = new apigw.UsagePlan(this, 'UsagePlan', {
        description: 'facekit usage plan',
        throttle: { rateLimit: p.throttlingRateLimit, burstLimit: p.throttlingBurstLimit },
        quota: p.apiKeyQuotaLimit !== undefined ? { limit: p.apiKeyQuotaLimit, period: p.apiKeyQuotaPeriod } : undefined,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
      new CfnOutput(this, 'ApiKeyId', {
        description: 'Id of the API key; get its value with: aws apigateway get-api-key --include-value --api-key <id>',
        value: this.apiKey.keyId,
      });
    }

    if (p.wafEnabled) {
      this.webAcl = new FacekitWebAcl(this, 'Waf', {
        maxRequestBodyBytes: p.maxRequestBodyBytes,
        rateLimitPer5Minutes: p.wafRateLimit,
        stageArn: this.api.deploymentStage.stageArn,
      });
    }

    this.endpointUrl = this.api.url;
    // RestApi already emits the endpoint URL as output `Endpoint`; describe it.
    const endpointOutput = this.api.node.tryFindChild('Endpoint');
    if (endpointOutput instanceof CfnOutput) {
      endpointOutput.description = 'facekit endpoint URL (append a route, e.g. face_detection)';
    } else {
      new CfnOutput(this, 'Endpoint', { description: 'facekit endpoint URL', value: this.endpointUrl });
    }

    this.acknowledgeNagFindings(p, role);
  }

  /**
   * cdk-nag (AwsSolutions) findings this design accepts, each with its reason. Recorded with
   * `Validations.of(...).acknowledge` (cdk-nag 3.x has no NagSuppressions), on the narrowest scope.
   */
  private acknowledgeNagFindings(p: ResolvedProps, role: iam.Role): void {
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-COG4',
        reason: p.auth === 'iam'
          ? 'Callers are AWS principals: every method uses AWS_IAM (SigV4) authorization instead of a Cognito user pool.'
          : 'API-key mode is for server-to-server clients of the emulated cloud APIs, which cannot obtain Cognito tokens; keys are rate-limited by a usage plan.',
      },
      {
        id: 'AwsSolutions-APIG2',
        reason: 'Bodies are binary, multipart, urlencoded or dialect-specific JSON; the function validates them and must answer in the caller\'s API dialect, which API Gateway request validation cannot do.',
      },
    );
    if (p.auth === 'apiKey') {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'auth=apiKey was chosen explicitly: every method requires an API key bound to a throttled usage plan (no unauthenticated access).',
      });
    }
    if (!p.wafEnabled) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'wafEnabled=false was chosen explicitly (cost); stage throttling still applies.',
      });
    }
    const cwRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cwRole) {
      Validations.of(cwRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-wide API Gateway logging role is shared by every REST API in the region, so it uses the AWS managed policy made for it.',
      });
    }
    if (p.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
      });
    }
    const s3Buckets = [...p.sourceBuckets, ...(p.ciBucket ? [p.ciBucket] : [])];
    for (const bucket of s3Buckets) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(bucket)}/*]`,
        reason: 's3:GetObject applies to objects; the function may read any key of a bucket it was configured with (images are addressed by arbitrary s3:// URLs).',
      });
    }
  }
}

/** How cdk-nag renders a bucket ARN in an IAM5 finding id. */
function nagResourceName(bucket: s3.IBucket): string {
  const resolved = Stack.of(bucket).resolve(bucket.bucketArn) as unknown;
  if (typeof resolved === 'string') return resolved;
  // Fn::Join of partition + name (imported bucket) or Fn::GetAtt (bucket in this stack).
  const r = resolved as Record<string, unknown>;
  if (Array.isArray(r['Fn::GetAtt'])) return `<${(r['Fn::GetAtt'] as string[]).join('.')}>`;
  if (Array.isArray(r['Fn::Join'])) {
    const [sep, parts] = r['Fn::Join'] as [string, unknown[]];
    return parts
      .map((part) => {
        if (typeof part === 'string') return part;
        const o = part as Record<string, unknown>;
        if (typeof o.Ref === 'string') return `<${o.Ref}>`;
        if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
        return JSON.stringify(part);
      })
      .join(sep);
  }
  return JSON.stringify(resolved);
}

function accessLogFormat(): apigw.AccessLogFormat {
  const f = apigw.AccessLogField;
  // resourcePath is the route template (/ci/{key+}), so object keys and bodies never reach the log.
  const quoted: Record<string, string> = {
    requestId: f.contextRequestId(),
    extendedRequestId: f.contextExtendedRequestId(),
    requestTime: f.contextRequestTime(),
    httpMethod: f.contextHttpMethod(),
    route: f.contextResourcePath(),
    status: f.contextStatus(),
    responseLength: f.contextResponseLength(),
    latencyMs: f.contextResponseLatency(),
    integrationLatencyMs: f.contextIntegrationLatency(),
    integrationStatus: f.contextIntegrationStatus(),
    wafStatus: f.contextWafStatus(),
    sourceIp: f.contextIdentitySourceIp(),
    caller: f.contextIdentityUserArn(),
    apiKeyId: f.contextIdentityApiKeyId(),
  };
  const fields = Object.entries(quoted).map(([name, variable]) => `"${name}":"${variable}"`);
  // $context.error.messageString is already a quoted, escaped JSON string.
  fields.push(`"errorMessage":${f.contextErrorMessageString()}`);
  return apigw.AccessLogFormat.custom(`{${fields.join(',')}}`);
}

// ---- validation -------------------------------------------------------------------------------

interface ResolvedProps {
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
}

function fail(message: string): never {
  throw new Error(`FaceDetectionApi: ${message}`);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) fail(`${name} must be a concrete number, not a token`);
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/** Applies defaults and validates every prop; throws on the first bad value. */
export function resolveProps(props: FaceDetectionApiProps): ResolvedProps {
  const memorySize = props.memorySize ?? 8192;
  checkInteger('memorySize', memorySize, 128, 10240);

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

  const auth = props.auth ?? 'iam';
  if (auth !== 'iam' && auth !== 'apiKey') fail(`auth must be 'iam' or 'apiKey', got '${String(auth)}'`);

  const throttlingRateLimit = props.throttlingRateLimit ?? 50;
  if (!Number.isFinite(throttlingRateLimit) || throttlingRateLimit < 0) {
    fail(`throttlingRateLimit must be a number >= 0 (requests per second), got ${throttlingRateLimit}`);
  }
  const throttlingBurstLimit = props.throttlingBurstLimit ?? 100;
  checkInteger('throttlingBurstLimit', throttlingBurstLimit, 0, 5000);

  if (auth !== 'apiKey') {
    if (props.apiKeyQuotaLimit !== undefined) fail(`apiKeyQuotaLimit needs auth: 'apiKey' (auth is '${auth}')`);
    if (props.apiKeyQuotaPeriod !== undefined) fail(`apiKeyQuotaPeriod needs auth: 'apiKey' (auth is '${auth}')`);
  }
  if (props.apiKeyQuotaLimit !== undefined) checkInteger('apiKeyQuotaLimit', props.apiKeyQuotaLimit, 1, Number.MAX_SAFE_INTEGER);
  if (props.apiKeyQuotaPeriod !== undefined && props.apiKeyQuotaLimit === undefined) {
    fail('apiKeyQuotaPeriod needs apiKeyQuotaLimit');
  }

  if (props.reservedConcurrency !== undefined) checkInteger('reservedConcurrency', props.reservedConcurrency, 1, 100000);

  const wafEnabled = props.wafEnabled ?? true;
  if (!wafEnabled && props.wafRateLimit !== undefined) fail('wafRateLimit needs wafEnabled: true');
  const wafRateLimit = props.wafRateLimit ?? 1000;
  checkInteger('wafRateLimit', wafRateLimit, 10, 2_000_000_000);

  const maxRequestBodyBytes = props.maxRequestBodyBytes ?? API_GATEWAY_MAX_PAYLOAD_BYTES;
  checkInteger('maxRequestBodyBytes', maxRequestBodyBytes, 1, API_GATEWAY_MAX_PAYLOAD_BYTES);
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
  };
}
