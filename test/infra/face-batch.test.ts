/**
 * The FaceBatch state machine as CloudFormation: a DISTRIBUTED Map reading the S3 prefix through
 * the ListObjectsV2 item reader, batching items to the facekit image's batch handler with the
 * documented concurrency and failure tolerance, writing its run results under the output prefix,
 * and IAM for exactly the two prefixes. The batch code itself runs in test/integration/batch.test.ts.
 */
import { jest } from '@jest/globals';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceBatch, type FaceBatchProps } from '../../lib/face-batch.js';
import { FacekitStack } from '../../lib/facekit-stack.js';
import { newApp, removeOutdirs } from './synth.js';

afterAll(removeOutdirs);

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
interface Statement { Action: string | string[]; Effect: string; Resource: unknown; Condition?: unknown }

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function batchStack(props: (stack: Stack) => Partial<FaceBatchProps> = () => ({})): { stack: Stack; batch: FaceBatch; readonly template: Template } {
  const stack = new Stack(newApp(), 'Batch');
  const input = { bucket: s3.Bucket.fromBucketName(stack, 'In', 'in-bucket'), prefix: 'photos/' };
  const output = { bucket: s3.Bucket.fromBucketName(stack, 'Out', 'out-bucket'), prefix: 'results/' };
  const batch = new FaceBatch(stack, 'FaceBatch', { input, output, ...props(stack) });
  // The project's dist/lambda may not be built while infra tests run (see synth.ts).
  Validations.of(stack).acknowledge({ id: 'facekit:lambdaBundleMissing', reason: 'infrastructure tests synthesize without building the Lambda bundle' });
  // Synthesized on first use, so a test may still add to the stack before.
  return { stack, batch, get template() { return Template.fromStack(stack); } };
}

/** The state machine definition, with CloudFormation references replaced by `<LogicalId>` strings. */
function definition(template: Template): { StartAt: string; States: Record<string, any> } {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine') as Resources)[0];
  const [, parts] = machine.Properties.DefinitionString['Fn::Join'] as [string, unknown[]];
  const text = parts.map((part) => {
    if (typeof part === 'string') return part;
    const o = part as Record<string, any>;
    if (o.Ref) return `<${o.Ref}>`;
    if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    return '<expression>';
  }).join('');
  return JSON.parse(text) as { StartAt: string; States: Record<string, any> };
}

/** Every statement of every IAM policy and role in the template. */
function statements(template: Template): Array<{ owner: string; statement: Statement }> {
  const out: Array<{ owner: string; statement: Statement }> = [];
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy') as Resources)) {
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) out.push({ owner: JSON.stringify(policy.Properties.Roles ?? id), statement });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role') as Resources)) {
    for (const policy of (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>) {
      for (const statement of policy.PolicyDocument.Statement) out.push({ owner: id, statement });
    }
  }
  return out;
}

const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${suffix}`]] });

describe('FaceBatch with default props', () => {
  let template: Template;
  let batch: FaceBatch;
  let stack: Stack;
  let map: Record<string, any>;
  beforeAll(() => {
    ({ template, batch, stack } = batchStack());
    map = Object.values(definition(template).States).find((state) => state.Type === 'Map') as Record<string, any>;
    const choiceTargets = JSON.stringify(definition(template).States);
    expect(choiceTargets).toContain('AnalyseImages');
  });

  test('a DISTRIBUTED Map whose item reader lists the execution\'s prefix of the input bucket (S3 ListObjectsV2)', () => {
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toEqual({
      Resource: 'arn:<AWS::Partition>:states:::s3:listObjectsV2',
      Parameters: { 'Bucket': 'in-bucket', 'Prefix.$': '$.inputPrefix' },
    });
  });

  test('documented defaults: 25 items per batch, MaxConcurrency 10, ToleratedFailurePercentage 5', () => {
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 25,
      BatchInput: { 'inputBucket': 'in-bucket', 'outputBucket': 'out-bucket', 'outputPrefix.$': '$.outputPrefix', 'analysis.$': '$.analysis' },
    });
    expect(map.MaxConcurrency).toBe(10);
    expect(map.ToleratedFailurePercentage).toBe(5);
  });

  test('each batch is one invocation of the batch function (the same image, batch.handler), retried when throttled', () => {
    const processor = map.ItemProcessor;
    const task = processor.States[processor.StartAt];
    expect(task.Type).toBe('Task');
    expect(task.Resource).toBe(`<${stack.getLogicalId(batch.function.node.defaultChild as never)}.Arn>`);
    expect(task.Retry.flatMap((retry: { ErrorEquals: string[] }) => retry.ErrorEquals)).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']));
    const fn = Object.values(template.findResources('AWS::Lambda::Function') as Resources)[0].Properties;
    expect(fn.PackageType).toBe('Image');
    expect(fn.ImageConfig).toEqual({ Command: ['batch.handler'] });
    expect([fn.MemorySize, fn.Timeout]).toEqual([8192, 900]);
    expect(fn.Environment.Variables).toEqual({ FACEKIT_S3_BUCKETS: 'in-bucket' });
  });

  test('the Map\'s result writer lists every batch run, failed ones included, under the output prefix', () => {
    expect(map.ResultWriter).toEqual({
      Resource: 'arn:<AWS::Partition>:states:::s3:putObject',
      Parameters: { 'Bucket': 'out-bucket', 'Prefix.$': '$.outputPrefix' },
    });
  });

  test('an execution outside the configured buckets and prefixes stops at a clear Fail state', () => {
    const { StartAt, States } = definition(template);
    expect(States[StartAt].Type).toBe('Choice');
    const roots = States[States[StartAt].Choices[0].Next];
    expect(roots.Choices[0].And).toEqual([
      { Variable: '$.inputBucket', StringEquals: 'in-bucket' },
      { Variable: '$.inputPrefix', StringMatches: 'photos/*' },
      { Variable: '$.outputBucket', StringEquals: 'out-bucket' },
      { Variable: '$.outputPrefix', StringMatches: 'results/*' },
    ]);
    expect(States[roots.Default]).toEqual(expect.objectContaining({ Type: 'Fail', Error: 'facekit.OutsideConfiguredPrefixes' }));
    expect(States[StartAt].Default).toBe(roots.Default);
  });

  test('least privilege: S3 access is exactly list/read under the input prefix and write under the output prefix', () => {
    const s3Statements = statements(template).filter(({ statement }) => asList(statement.Action).some((a) => a.startsWith('s3:')));
    const simplified = s3Statements.map(({ statement }) => ({ Action: statement.Action, Resource: statement.Resource, Condition: statement.Condition }));
    expect(simplified).toHaveLength(4);
    expect(simplified).toEqual(expect.arrayContaining([
      // the item reader (state machine)
      { Action: 's3:ListBucket', Resource: arn('in-bucket'), Condition: { StringLike: { 's3:prefix': 'photos/*' } } },
      // the result writer (state machine)
      { Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'], Resource: arn('out-bucket/results/*'), Condition: undefined },
      // the function
      { Action: 's3:GetObject', Resource: arn('in-bucket/photos/*'), Condition: undefined },
      { Action: 's3:PutObject', Resource: arn('out-bucket/results/*'), Condition: undefined },
    ]));
    // Nothing on `*`, nothing on another bucket or prefix.
    for (const { statement } of statements(template)) {
      if (statement.Resource === '*') expect(asList(statement.Action).every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    }
  });

  test('the state machine logs ALL events to its own log group; outputs name the ARN and both roots', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } }] } });
    const outputs = Object.values(template.findOutputs('*')).map((output) => output.Value);
    expect(outputs).toEqual(expect.arrayContaining(['s3://in-bucket/photos/', 's3://out-bucket/results/']));
    expect(outputs).toContainEqual({ Ref: stack.getLogicalId(batch.stateMachine.node.defaultChild as never) });
  });

  test('grantStartExecution lets a caller start and watch executions of this state machine only', () => {
    // A stack of its own: the one above is already synthesized.
    const { stack, batch } = batchStack();
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    batch.grantStartExecution(caller);
    const callerId = stack.getLogicalId(caller.node.defaultChild as never);
    const callerStatements = statements(Template.fromStack(stack)).filter(({ owner }) => owner === JSON.stringify([{ Ref: callerId }])).map(({ statement }) => statement);
    expect(callerStatements.flatMap((s) => asList(s.Action))).toEqual(expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution']));
    const machineId = stack.getLogicalId(batch.stateMachine.node.defaultChild as never);
    for (const statement of callerStatements) expect(JSON.stringify(statement.Resource)).toContain(machineId);
  });
});

describe('FaceBatch options', () => {
  test('concurrency, failure tolerance and batch size follow the props', () => {
    const { template } = batchStack(() => ({ maxConcurrency: 3, toleratedFailurePercentage: 0, maxItemsPerBatch: 10 }));
    const map = Object.values(definition(template).States).find((state) => state.Type === 'Map') as Record<string, any>;
    expect([map.MaxConcurrency, map.ItemBatcher.MaxItemsPerBatch]).toEqual([3, 10]);
    // 0 % renders as no tolerance at all: Step Functions' default is 0.
    expect(map.ToleratedFailurePercentage ?? 0).toBe(0);
  });

  test('SSE-KMS buckets: the function may decrypt the input key and encrypt with the output key', () => {
    const { template } = batchStack((stack) => ({
      input: { bucket: new s3.Bucket(stack, 'KmsIn', { encryption: s3.BucketEncryption.KMS, enforceSSL: true }), prefix: 'in/' },
      output: { bucket: new s3.Bucket(stack, 'KmsOut', { encryption: s3.BucketEncryption.KMS, enforceSSL: true }), prefix: 'out/' },
    }));
    const kms = statements(template).filter(({ statement }) => asList(statement.Action).some((a) => a.startsWith('kms:'))).map(({ statement }) => asList(statement.Action));
    expect(kms.some((actions) => actions.includes('kms:Decrypt'))).toBe(true);
    expect(kms.some((actions) => actions.includes('kms:GenerateDataKey*'))).toBe(true);
  });

  test.each([
    ['input prefix without slash', { input: { prefix: 'photos' } }, /input.prefix must be a non-empty key prefix/],
    ['empty output prefix', { output: { prefix: '' } }, /output.prefix/],
    ['wildcard prefix', { input: { prefix: 'a*/' } }, /input.prefix/],
    ['concurrency 0', { maxConcurrency: 0 }, /maxConcurrency must be an integer in 1\.\./],
    ['tolerance 101', { toleratedFailurePercentage: 101 }, /toleratedFailurePercentage must be a number in 0\.\.100/],
    ['timeout 16 min', { timeoutMinutes: 16 }, /timeout must be 1 s\.\.15 min/],
    ['reserved env', { environment: { FACEKIT_S3_BUCKETS: 'x' } }, /environment key FACEKIT_S3_BUCKETS is not allowed/],
  ])('%s throws a clear error', (_name, override, message) => {
    const stack = new Stack(newApp(), 'Invalid');
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'bucket');
    const o = override as Record<string, any>;
    const props: FaceBatchProps = {
      input: { bucket, prefix: o.input?.prefix ?? 'in/' },
      output: { bucket, prefix: o.output?.prefix ?? 'out/' },
      ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
      ...(o.toleratedFailurePercentage !== undefined ? { toleratedFailurePercentage: o.toleratedFailurePercentage } : {}),
      ...(o.timeoutMinutes !== undefined ? { timeout: Duration.minutes(o.timeoutMinutes) } : {}),
      ...(o.environment ? { environment: o.environment } : {}),
    };
    expect(() => new FaceBatch(stack, 'Batch', props)).toThrow(message);
  });
});

describe('FaceBatch in the default stack', () => {
  test('with no batch context: a private, encrypted, SSL-only bucket with input/ and output/', () => {
    const app = newApp();
    const stack = new FacekitStack(app, 'Facekit');
    expect(stack.faceBatch).toBeDefined();
    expect(stack.faceBatch!.input.prefix).toBe('input/');
    expect(stack.faceBatch!.output.prefix).toBe('output/');
    expect(stack.faceBatch!.input.bucket).toBe(stack.batchBucket);
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      },
    });
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test('batchInput/batchOutput context use existing buckets; batch=false leaves the batch out', () => {
    const withContext = new FacekitStack(newApp({ batchInput: 's3://photos-in/2024/', batchOutput: 's3://results-out/faces/', batchMaxConcurrency: '4' }), 'Facekit');
    expect(withContext.batchBucket).toBeUndefined();
    expect([withContext.faceBatch!.input.bucket.bucketName, withContext.faceBatch!.input.prefix, withContext.faceBatch!.output.prefix]).toEqual(['photos-in', '2024/', 'faces/']);
    const map = Object.values(definition(Template.fromStack(withContext)).States).find((state) => state.Type === 'Map') as Record<string, any>;
    expect(map.MaxConcurrency).toBe(4);

    const without = new FacekitStack(newApp({ batch: 'false' }), 'Facekit');
    expect(without.faceBatch).toBeUndefined();
    Template.fromStack(without).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(() => new FacekitStack(newApp({ batchInput: 's3://photos-in/2024' }), 'Facekit')).toThrow(/batchInput must be s3:\/\/bucket\/prefix\//);
  });
});

describe('cdk-nag on FaceBatch', () => {
  const rules = (stack: Stack) => new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);

  test('no unacknowledged findings, and every acknowledgement is needed', () => {
    const { stack } = batchStack();
    expect(rules(stack)).toEqual([]);
    const spy = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let bare: Stack;
    try {
      ({ stack: bare } = batchStack());
    } finally {
      spy.mockRestore();
    }
    const found = new Set(rules(bare));
    const acknowledged = stack.node.findAll().flatMap((c) => c.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
      .map((id) => id.replace(/^annotation::/i, ''))
      .filter((id) => id.startsWith('AwsSolutions-'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const id of acknowledged) expect(found).toContain(id);
  });
});
