/**
 * Fine-grained assertions on the CloudFormation FaceDetectionApi produces. Each describe block
 * synthesizes once.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FaceDetectionApi, FacekitAuth, type FaceDetectionApiProps } from '../../lib/face-detection-api.js';
import { FACEKIT_ROUTES } from '../../lib/routes.js';
import { decimalGreaterThanPatterns } from '../../lib/waf.js';
import { makeStack, newApp, removeOutdirs } from './synth.js';

afterAll(removeOutdirs);

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DependsOn?: unknown }>;

const NATIVE_ROUTES = ['/face_detection', '/face-detection'];
const NON_CI_ROUTES = FACEKIT_ROUTES.filter((r) => !r.requiresCiBucket);

/** What `bucket.grantRead(fn)` grants (aws-cdk-lib's S3 read action set). */
const GRANT_READ_ACTIONS = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];

/** `arn:${Partition}:s3:::name` as CloudFormation renders it for an imported bucket. */
function bucketArn(bucket: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${bucket}`]] };
}

/** `arn:${Partition}:s3:::name/*` as CloudFormation renders it for an imported bucket. */
function objectsArn(bucket: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${bucket}/*`]] };
}

/** Full path of an AWS::ApiGateway::Resource, following ParentId up to the root. */
function resourcePaths(template: Template): Map<string, string> {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Resources;
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const cached = paths.get(id);
    if (cached) return cached;
    const props = resources[id].Properties!;
    const parent = props.ParentId as { Ref?: string; 'Fn::GetAtt'?: string[] };
    const prefix = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${prefix}/${props.PathPart as string}`;
    paths.set(id, path);
    return path;
  };
  for (const id of Object.keys(resources)) pathOf(id);
  return paths;
}

/** [METHOD path] of every method. */
function methodRoutes(template: Template): string[] {
  const paths = resourcePaths(template);
  const methods = template.findResources('AWS::ApiGateway::Method') as Resources;
  return Object.values(methods)
    .map((m) => `${m.Properties!.HttpMethod as string} ${paths.get((m.Properties!.ResourceId as { Ref: string }).Ref) ?? '/'}`)
    .sort();
}

/** Every IAM action in the template (roles' inline policies, policies, managed policies). */
function allIamStatements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
  const out: Array<{ Action: string | string[]; Resource: unknown }> = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const r of Object.values(template.findResources(type) as Resources)) {
      out.push(...(r.Properties!.PolicyDocument.Statement as typeof out));
    }
  }
  for (const r of Object.values(template.findResources('AWS::IAM::Role') as Resources)) {
    for (const p of (r.Properties!.Policies ?? []) as Array<{ PolicyDocument: { Statement: typeof out } }>) {
      out.push(...p.PolicyDocument.Statement);
    }
  }
  return out;
}

const asList = (a: string | string[]): string[] => (Array.isArray(a) ? a : [a]);

function functionRoleLogicalId(template: Template): string {
  const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0];
  return (fn.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
}

describe('FaceDetectionApi with default props', () => {
  let template: Template;
  let api: FaceDetectionApi;
  let stack: Stack;
  beforeAll(() => {
    ({ api, stack } = makeStack());
    template = Template.fromStack(stack);
  });

  test('one container-image function with 8192 MB, x86_64 and a timeout below 29 s', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties!;
    expect(fn.PackageType).toBe('Image');
    expect(fn.MemorySize).toBe(8192);
    expect(fn.Timeout).toBeLessThan(29);
    expect(fn.Timeout).toBe(28);
    expect(fn.Architectures).toEqual(['x86_64']);
    expect(fn.Runtime).toBeUndefined();
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.TracingConfig).toBeUndefined();
  });

  test('function environment: body limit, no bucket variables without buckets', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties!;
    expect(fn.Environment.Variables).toEqual({ FACEKIT_MAX_IMAGE_BYTES: String(10 * 1024 * 1024) });
  });

  test('every method uses AWS_IAM, none requires an API key, and there is no ApiKey/UsagePlan', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    expect(methods).toHaveLength(NON_CI_ROUTES.length);
    for (const m of methods) {
      expect(m.Properties!.AuthorizationType).toBe('AWS_IAM');
      expect(m.Properties!.ApiKeyRequired).not.toBe(true);
    }
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  test('the routes are exactly the non-CI routes; both native routes are POST; no CI route', () => {
    const routes = methodRoutes(template);
    expect(routes).toEqual(NON_CI_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const path of NATIVE_ROUTES) expect(routes).toContain(`POST ${path}`);
    expect(routes.some((r) => r.includes('/ci/'))).toBe(false);
  });

  test('every method is a Lambda proxy integration to the function', () => {
    const fnId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    for (const m of methods) {
      const integration = m.Properties!.Integration;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(integration.IntegrationHttpMethod).toBe('POST');
      expect(JSON.stringify(integration.Uri)).toContain(fnId);
    }
  });

  test('binary media types so multipart and images arrive base64-encoded', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  test('function role: no managed policies, only its log group and nothing on S3', () => {
    const roleId = functionRoleLogicalId(template);
    const role = (template.findResources('AWS::IAM::Role') as Resources)[roleId].Properties!;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);

    const logGroupId = Object.entries(template.findResources('AWS::Lambda::Function') as Resources)[0][1].Properties!
      .LoggingConfig.LogGroup.Ref as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
      (p.Properties!.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties!.PolicyDocument.Statement).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    for (const s of allIamStatements(template)) {
      expect(asList(s.Action).filter((a) => a.toLowerCase().startsWith('s3:'))).toEqual([]);
    }
  });

  test("the function's log group is created explicitly with retention", () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties!;
    const groups = template.findResources('AWS::Logs::LogGroup') as Resources;
    const fnGroup = groups[fn.LoggingConfig.LogGroup.Ref as string];
    expect(fnGroup.Properties!.RetentionInDays).toBe(30);
    // Every log group (function, access, execution) has a retention.
    expect(Object.keys(groups)).toHaveLength(3);
    for (const g of Object.values(groups)) expect(g.Properties!.RetentionInDays).toBe(30);
  });

  test('execution log group named after the API and stage', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: {
        'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: Match.stringLikeRegexp('Api') }, '/prod']],
      },
    });
  });

  test('stage: JSON access logs without bodies, ERROR-only execution logs, no data trace, throttling', () => {
    const stages = Object.values(template.findResources('AWS::ApiGateway::Stage') as Resources);
    expect(stages).toHaveLength(1);
    const stage = stages[0].Properties!;
    expect(stage.StageName).toBe('prod');
    expect(stage.AccessLogSetting.DestinationArn).toBeDefined();
    const format = JSON.parse(
      (stage.AccessLogSetting.Format as string).replace('$context.error.messageString', '"x"'),
    ) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      route: '$context.resourcePath',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
    });
    expect(stage.AccessLogSetting.Format).not.toMatch(/body|\$input|\$context\.path/i);
    expect(stage.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: false,
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      },
    ]);
    expect(stage.TracingEnabled).toBe(false);
  });

  test('access log group has retention', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage') as Resources)[0].Properties!;
    const destination = JSON.stringify(stage.AccessLogSetting.DestinationArn);
    const groups = template.findResources('AWS::Logs::LogGroup') as Resources;
    const accessId = Object.keys(groups).find((id) => destination.includes(`"${id}"`));
    expect(accessId).toBeDefined();
    expect(groups[accessId!].Properties!.RetentionInDays).toBe(30);
  });

  test('one Lambda permission, scoped to this API', () => {
    const perms = Object.values(template.findResources('AWS::Lambda::Permission') as Resources);
    expect(perms).toHaveLength(1);
    expect(perms[0].Properties!.Principal).toBe('apigateway.amazonaws.com');
    expect(JSON.stringify(perms[0].Properties!.SourceArn)).toContain('execute-api');
  });

  test('WAF web ACL associated with the stage, with the body size rule (413) and a rate rule (429)', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    const stageId = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0];
    const assoc = Object.values(template.findResources('AWS::WAFv2::WebACLAssociation') as Resources)[0].Properties!;
    expect(JSON.stringify(assoc.ResourceArn)).toContain(stageId);
    expect(JSON.stringify(assoc.ResourceArn)).toContain('/restapis/');

    const acl = Object.values(template.findResources('AWS::WAFv2::WebACL') as Resources)[0].Properties!;
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Rules as Array<Record<string, any>>;
    const size = rules.find((r) => r.Name === 'RequestBodyTooLarge')!;
    expect(size.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 413 } } });
    expect(size.Statement.RegexPatternSetReferenceStatement.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
    const setId = size.Statement.RegexPatternSetReferenceStatement.Arn['Fn::GetAtt'][0] as string;
    const set = (template.findResources('AWS::WAFv2::RegexPatternSet') as Resources)[setId].Properties!;
    expect(set.RegularExpressionList).toEqual(decimalGreaterThanPatterns(10 * 1024 * 1024));
    const rate = rules.find((r) => r.Name === 'RateLimitPerIp')!;
    expect(rate.Statement.RateBasedStatement).toEqual({ Limit: 1000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
    expect(rate.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
  });

  test('endpoint URL output and public properties', () => {
    const outputs = template.findOutputs('*');
    const endpoint = Object.values(outputs).filter((o) => JSON.stringify(o.Value).includes('.execute-api.'));
    expect(endpoint).toHaveLength(1);
    expect(JSON.stringify(endpoint[0].Value)).toContain('https://');
    expect(api.api).toBeInstanceOf(apigw.RestApi);
    expect(api.function).toBeInstanceOf(lambda.DockerImageFunction);
    expect(stack.resolve(api.endpointUrl)).toEqual(endpoint[0].Value);
    expect(api.apiKey).toBeUndefined();
  });

  test('the image asset is built from lambda/Dockerfile and stages only what the Dockerfile copies', () => {
    const outdir = (stack.node.root as App).outdir;
    const assetDir = readdirSync(outdir)
      .map((name) => join(outdir, name))
      .find((p) => /asset\.[0-9a-f]{64}$/.test(p));
    expect(assetDir).toBeDefined();
    const top = readdirSync(assetDir!).sort();
    expect(top.every((name) => ['dist', 'lambda', 'models'].includes(name))).toBe(true);
    expect(existsSync(join(assetDir!, 'lambda', 'Dockerfile'))).toBe(true);
    expect(readdirSync(join(assetDir!, 'lambda'))).toEqual(['Dockerfile']);
    for (const name of readdirSync(join(assetDir!, 'models'))) expect(name).toMatch(/\.onnx$|^manifest\.json$/);
    expect(existsSync(join(assetDir!, 'node_modules'))).toBe(false);
  });
});

describe('FaceDetectionApi with buckets, a CI bucket and non-default options', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = makeStack(
      (b) => ({
        sourceBuckets: [b['photos-a'], b['photos-b']],
        ciBucket: b['ci-images'],
        memorySize: 4096,
        timeout: Duration.seconds(20),
        architecture: lambda.Architecture.ARM_64,
        reservedConcurrency: 5,
        logRetention: logs.RetentionDays.ONE_WEEK,
        throttlingRateLimit: 7,
        throttlingBurstLimit: 3,
        maxRequestBodyBytes: 5_000_000,
        stageName: 'v1',
        environment: { FACEKIT_MIN_CONFIDENCE: '0.6' },
      }),
      ['photos-a', 'photos-b', 'ci-images'],
    );
    template = Template.fromStack(stack);
  });

  test('the CI route exists as GET /ci/{key+}, every method AWS_IAM', () => {
    const routes = methodRoutes(template);
    expect(routes).toEqual(FACEKIT_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(routes).toContain('GET /ci/{key+}');
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    expect(methods).toHaveLength(FACEKIT_ROUTES.length);
    for (const m of methods) expect(m.Properties!.AuthorizationType).toBe('AWS_IAM');
  });

  test('S3 access is bucket.grantRead: read actions only, on each configured bucket and its objects', () => {
    const s3Statements = allIamStatements(template).filter((s) => asList(s.Action).some((a) => a.toLowerCase().startsWith('s3:')));
    expect(s3Statements).toHaveLength(1);
    const [statement] = s3Statements as Array<Record<string, unknown>>;
    expect(Object.keys(statement).sort()).toEqual(['Action', 'Effect', 'Resource']);
    expect(statement.Action).toEqual(GRANT_READ_ACTIONS);
    expect(statement.Effect).toBe('Allow');
    // Order is CDK's (minimizePolicies sorts); the set must be exactly the three buckets and their objects.
    const resources = statement.Resource as unknown[];
    expect(resources).toHaveLength(6);
    expect(resources).toEqual(expect.arrayContaining(['photos-a', 'photos-b', 'ci-images'].flatMap((b) => [bucketArn(b), objectsArn(b)])));
  });

  test('function settings and environment follow the props', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties!;
    expect(fn.MemorySize).toBe(4096);
    expect(fn.Timeout).toBe(20);
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.ReservedConcurrentExecutions).toBe(5);
    expect(fn.Environment.Variables).toEqual({
      FACEKIT_MIN_CONFIDENCE: '0.6',
      FACEKIT_MAX_IMAGE_BYTES: '5000000',
      FACEKIT_S3_BUCKETS: 'photos-a,photos-b,ci-images',
      FACEKIT_CI_BUCKET: 'ci-images',
    });
  });

  test('retention, stage name, throttling and WAF limit follow the props', () => {
    for (const g of Object.values(template.findResources('AWS::Logs::LogGroup') as Resources)) {
      expect(g.Properties!.RetentionInDays).toBe(7);
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 3, DataTraceEnabled: false })],
    });
    template.hasResourceProperties('AWS::WAFv2::RegexPatternSet', {
      RegularExpressionList: decimalGreaterThanPatterns(5_000_000),
    });
  });
});

describe('FaceDetectionApi in apiKey mode', () => {
  let template: Template;
  let api: FaceDetectionApi;
  beforeAll(() => {
    const built = makeStack(() => ({
      auth: FacekitAuth.API_KEY,
      throttlingRateLimit: 20,
      throttlingBurstLimit: 40,
      apiKeyQuotaLimit: 100000,
      apiKeyQuotaPeriod: apigw.Period.MONTH,
    }));
    api = built.api;
    template = Template.fromStack(built.stack);
  });

  test('every method requires an API key and no IAM authorization', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method') as Resources);
    expect(methods).toHaveLength(NON_CI_ROUTES.length);
    for (const m of methods) {
      expect(m.Properties!.ApiKeyRequired).toBe(true);
      expect(m.Properties!.AuthorizationType).toBe('NONE');
    }
  });

  test('an API key bound to a usage plan with throttle and quota on the stage', () => {
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    const stageId = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0];
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 100000, Period: 'MONTH' },
      ApiStages: [Match.objectLike({ Stage: { Ref: stageId } })],
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })],
    });
    expect(api.apiKey).toBeDefined();
    expect(api.usagePlan).toBeDefined();
  });

  test('the API key id is an output', () => {
    const keyId = Object.keys(template.findResources('AWS::ApiGateway::ApiKey'))[0];
    const outputs = Object.values(template.findOutputs('*'));
    expect(outputs.some((o) => JSON.stringify(o.Value) === JSON.stringify({ Ref: keyId }))).toBe(true);
  });
});

describe('FaceDetectionApi without WAF, with tracing, without the API Gateway account role', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = makeStack(() => ({ wafEnabled: false, tracing: true, apiGatewayCloudWatchRole: false }));
    template = Template.fromStack(stack);
  });

  test('no WAF resources', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    template.resourceCountIs('AWS::WAFv2::RegexPatternSet', 0);
  });

  test('tracing on stage and function; no API Gateway account resource', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourceCountIs('AWS::IAM::Role', 1);
  });
});

describe('FaceDetectionApi prop validation', () => {
  const cases: Array<[string, (b: s3.IBucket) => FaceDetectionApiProps, RegExp]> = [
    ['timeout 29 s', () => ({ timeout: Duration.seconds(29) }), /timeout must be below API Gateway's 29 s/],
    ['timeout 1 min', () => ({ timeout: Duration.minutes(1) }), /timeout must be below/],
    ['fractional timeout', () => ({ timeout: Duration.millis(1500) }), /whole number of seconds/],
    ['memory 64', () => ({ memorySize: 64 }), /memorySize must be an integer in 128\.\.10240/],
    ['memory 10241', () => ({ memorySize: 10241 }), /memorySize/],
    ['memory 1000.5', () => ({ memorySize: 1000.5 }), /memorySize/],
    ['negative rate', () => ({ throttlingRateLimit: -1 }), /throttlingRateLimit must be a number >= 0/],
    ['negative burst', () => ({ throttlingBurstLimit: -5 }), /throttlingBurstLimit/],
    ['quota without apiKey', () => ({ apiKeyQuotaLimit: 10 }), /apiKeyQuotaLimit needs auth: FacekitAuth.API_KEY/],
    ['quota period without apiKey', () => ({ apiKeyQuotaPeriod: apigw.Period.DAY }), /apiKeyQuotaPeriod needs auth: FacekitAuth.API_KEY/],
    ['quota period without limit', () => ({ auth: FacekitAuth.API_KEY, apiKeyQuotaPeriod: apigw.Period.DAY }), /apiKeyQuotaPeriod needs apiKeyQuotaLimit/],
    ['unknown auth', () => ({ auth: 'cognito' as never }), /auth must be one of FacekitAuth.IAM, FacekitAuth.API_KEY/],
    ['reserved concurrency 0', () => ({ reservedConcurrency: 0 }), /reservedConcurrency/],
    ['WAF rate without WAF', () => ({ wafEnabled: false, wafRateLimit: 100 }), /wafRateLimit needs wafEnabled/],
    ['WAF rate 5', () => ({ wafRateLimit: 5 }), /wafRateLimit must be an integer in 10\.\./],
    ['body limit 0', () => ({ maxRequestBodyBytes: 0 }), /maxRequestBodyBytes/],
    ['body limit above API Gateway', () => ({ maxRequestBodyBytes: 20 * 1024 * 1024 }), /maxRequestBodyBytes/],
    ['env key not FACEKIT_', () => ({ environment: { NODE_OPTIONS: 'x' } }), /must match FACEKIT_/],
    ['env key reserved', () => ({ environment: { FACEKIT_S3_BUCKETS: 'x' } }), /set by the construct/],
    ['env test switch', () => ({ environment: { FACEKIT_TEST_ALLOW_LOOPBACK: '1' } }), /tests only/],
    ['bad stage name', () => ({ stageName: 'a/b' }), /stageName/],
  ];

  test.each(cases)('%s throws a clear error', (_name, props, message) => {
    const stack = new Stack(newApp(), 'Invalid');
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'bucket');
    expect(() => new FaceDetectionApi(stack, 'Api', props(bucket))).toThrow(message);
    // Validation happens before any resource is created.
    expect(stack.node.tryFindChild('Api')?.node.children ?? []).toHaveLength(0);
  });
});

describe('decimalGreaterThanPatterns (WAF Content-Length rule)', () => {
  const matches = (patterns: string[], s: string) => patterns.some((p) => new RegExp(p).test(s));

  test.each([0, 1, 9, 10, 99, 100, 1234, 5_000_000, 9_999_999, 10_485_760])('matches exactly the numbers above %i', (limit) => {
    const patterns = decimalGreaterThanPatterns(limit);
    expect(patterns.length).toBeLessThanOrEqual(10);
    for (const p of patterns) expect(p).not.toMatch(/[()|]/); // no groups or alternation for WAF
    const candidates = new Set<number>([0, 1, limit - 1, limit, limit + 1, limit * 10, limit * 10 + 1, 10 ** String(limit).length]);
    for (let i = 0; i < 300; i++) candidates.add(Math.floor(Math.random() * (limit * 3 + 10)));
    for (const n of candidates) {
      if (n < 0) continue;
      expect([n, matches(patterns, String(n))]).toEqual([n, n > limit]);
      expect([n, matches(patterns, `00${n}`)]).toEqual([n, n > limit]);
    }
    expect(matches(patterns, '')).toBe(false);
    expect(matches(patterns, '12a')).toBe(false);
    expect(matches(patterns, ' 99999999999')).toBe(false);
  });
});

describe('FaceDetectionApi with one source bucket', () => {
  test('the S3 statement is exactly grantRead on that bucket', () => {
    const { stack } = makeStack((b) => ({ sourceBuckets: [b.photos], wafEnabled: false }), ['photos']);
    const template = Template.fromStack(stack);
    const s3Statements = allIamStatements(template).filter((s) => asList(s.Action).some((a) => a.toLowerCase().includes('s3:')));
    expect(s3Statements).toEqual([{ Action: GRANT_READ_ACTIONS, Effect: 'Allow', Resource: [bucketArn('photos'), objectsArn('photos')] }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FACEKIT_S3_BUCKETS: 'photos' }) },
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties!;
    expect(fn.Environment.Variables.FACEKIT_CI_BUCKET).toBeUndefined();
    expect(methodRoutes(template).some((r) => r.includes('/ci/'))).toBe(false);
  });
});

describe('image asset directory', () => {
  const dockerfile = readFileSync(new URL('../../lambda/Dockerfile', import.meta.url));
  function context(withBundle: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), 'facekit-ctx-'));
    mkdirSync(join(dir, 'lambda'));
    writeFileSync(join(dir, 'lambda', 'Dockerfile'), dockerfile);
    mkdirSync(join(dir, 'models'));
    writeFileSync(join(dir, 'models', 'manifest.json'), '{}');
    writeFileSync(join(dir, 'models', 'notes.txt'), 'not copied');
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), '');
    if (withBundle) {
      mkdirSync(join(dir, 'dist', 'lambda'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'lambda', 'index.mjs'), 'export const handler = () => {};');
      writeFileSync(join(dir, 'dist', 'lambda', 'package.json'), '{}');
    }
    return dir;
  }

  test('a missing dist/lambda bundle is a synth warning, not an error', () => {
    const dir = context(false);
    // Synthesis prints warnings to stderr; keep the test output clean but check it was printed.
    const stderr = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { stack } = makeStack(() => ({ imageAssetDirectory: dir }));
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('npm run build:lambda'));
      expect(stderr.mock.calls.flat().join('\n')).toContain('npm run build:lambda');
    } finally {
      stderr.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with the bundle: no warning, and the staged context holds only Dockerfile, bundle and models', () => {
    const dir = context(true);
    try {
      const { stack } = makeStack(() => ({ imageAssetDirectory: dir }));
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('build:lambda'));
      const outdir = (stack.node.root as App).outdir;
      const assetDir = readdirSync(outdir).map((n) => join(outdir, n)).find((p) => /asset\.[0-9a-f]{64}$/.test(p))!;
      const files: string[] = [];
      const walk = (d: string, rel: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
          else files.push(`${rel}${e.name}`);
        }
      };
      walk(assetDir, '');
      expect(files.sort()).toEqual(['dist/lambda/index.mjs', 'dist/lambda/package.json', 'lambda/Dockerfile', 'models/manifest.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('grants', () => {
  test('a KMS-encrypted source bucket: grantRead also lets the function decrypt with the bucket key', () => {
    const app = newApp();
    const stack = new Stack(app, 'Kms');
    const bucket = new s3.Bucket(stack, 'Encrypted', { encryption: s3.BucketEncryption.KMS, enforceSSL: true });
    new FaceDetectionApi(stack, 'FaceDetection', { sourceBuckets: [bucket], wafEnabled: false });
    const template = Template.fromStack(stack);
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    const roleId = functionRoleLogicalId(template);
    const kmsStatements = Object.values(template.findResources('AWS::IAM::Policy') as Resources)
      .filter((p) => JSON.stringify(p.Properties!.Roles).includes(roleId))
      .flatMap((p) => p.Properties!.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([{ Action: ['kms:Decrypt', 'kms:DescribeKey'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }]);
  });

  test('grantInvoke gives exactly execute-api:Invoke on every route of this stage', () => {
    const { stack, api } = makeStack();
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    api.grantInvoke(caller);
    const template = Template.fromStack(stack);
    const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
    const stageId = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0];
    const callerId = stack.getLogicalId(caller.node.defaultChild as CfnElement);
    const callerPolicies = Object.values(template.findResources('AWS::IAM::Policy') as Resources)
      .filter((p) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: callerId }]));
    expect(callerPolicies).toHaveLength(1);
    const statements = callerPolicies[0].Properties!.PolicyDocument.Statement as Array<Record<string, unknown>>;
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    const resource = JSON.stringify(statements[0].Resource);
    expect(resource).toContain(`{"Ref":"${apiId}"}`);
    expect(resource).toContain(`{"Ref":"${stageId}"}`);
    expect(resource).toMatch(/\/\*\/\*"\]\]\}$/); // …/<stage>/*/* : every method, every path
  });

  test('grantInvoke in API_KEY mode is refused: methods do not check IAM there', () => {
    const { stack, api } = makeStack(() => ({ auth: FacekitAuth.API_KEY }));
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => api.grantInvoke(caller)).toThrow(/grantInvoke needs auth FacekitAuth.IAM/);
  });
});
