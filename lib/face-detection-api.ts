/**
 * FaceDetectionApi: API Gateway (REST) → container-image Lambda running facekit's ONNX models.
 *
 * Infrastructure only. Props and their validation: face-detection-api-props.ts; the image:
 * image-asset.ts; cdk-nag acknowledgements: nag-acknowledgements.ts; dashboard and alarms:
 * monitoring.ts.
 */
import { CfnOutput, Names } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FacekitAuth, resolveProps, type FaceDetectionApiProps } from './face-detection-api-props.js';
import { FacekitHandler, facekitImageCode, warnIfBundleMissing } from './image-asset.js';
import { FacekitMonitoring } from './monitoring.js';
import { acknowledgeApiFindings } from './nag-acknowledgements.js';
import { BINARY_MEDIA_TYPES, FACEKIT_ROUTES } from './routes.js';
import { FacekitWebAcl } from './waf.js';

export * from './face-detection-api-props.js';
export { IMAGE_ASSET_EXCLUDE } from './image-asset.js';

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
  /** How callers authenticate. */
  public readonly auth: FacekitAuth;
  /** The API key, in API_KEY mode. */
  public readonly apiKey?: apigw.IApiKey;
  /** The usage plan, in API_KEY mode. */
  public readonly usagePlan?: apigw.UsagePlan;
  /** The WAF web ACL, when `wafEnabled`. */
  public readonly webAcl?: FacekitWebAcl;
  /** The dashboard and alarms, unless `monitoring` turned both off. */
  public readonly monitoring?: FacekitMonitoring;

  constructor(scope: Construct, id: string, props: FaceDetectionApiProps = {}) {
    super(scope, id);
    const p = resolveProps(props);
    this.auth = p.auth;

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
      code: facekitImageCode(p.imageAssetDirectory, p.architecture, FacekitHandler.API),
      architecture: p.architecture,
      memorySize: p.memorySize,
      timeout: p.timeout,
      role,
      logGroup: functionLogGroup,
      environment,
      reservedConcurrentExecutions: p.reservedConcurrency,
      tracing: p.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    });
    // grantRead: the S3 read actions, plus kms:Decrypt on the bucket's key when it has one.
    for (const bucket of readableBuckets) bucket.grantRead(this.function);
    warnIfBundleMissing(this.function, p.imageAssetDirectory, FacekitHandler.API);

    // ---- API ------------------------------------------------------------------------------------
    const useApiKey = p.auth === FacekitAuth.API_KEY;
    this.api = new apigw.RestApi(this, 'Api', {
      // API Gateway's CloudWatch metrics are keyed by this name: unique per stack and construct.
      restApiName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      description: 'facekit face detection API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      cloudWatchRole: p.apiGatewayCloudWatchRole,
      deployOptions: {
        stageName: p.stageName,
        // Execution logs: errors only, never request/response bodies (images).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // Per-method metrics cost extra; the API's own Count/4XX/5XX/Latency per stage are always sent.
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

    if (p.monitoring.dashboard || p.monitoring.alarms) {
      this.monitoring = new FacekitMonitoring(this, 'Monitoring', {
        stage: this.api.deploymentStage,
        function: this.function,
        options: p.monitoring,
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

    acknowledgeApiFindings(p, this.api, role);
  }

  /**
   * Lets `grantee` call every route of this stage: `execute-api:Invoke` on
   * `arn:…:execute-api:<region>:<account>:<api id>/<stage>/*\/*`. Only in IAM mode: in API_KEY mode
   * methods do not check IAM, so a grant would give nothing; hand out an API key instead.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    if (this.auth !== FacekitAuth.IAM) {
      throw new Error(`FaceDetectionApi.grantInvoke needs auth FacekitAuth.IAM (auth is '${this.auth}'): API-key callers need the key, not IAM permissions`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.api.deploymentStage.stageName)],
    });
  }
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

