/**
 * FaceBatch: face analysis over an S3 prefix, at any scale, on Step Functions. Infrastructure only.
 *
 *   StartExecution {inputBucket, inputPrefix, outputBucket, outputPrefix, analysis?}
 *     → checks the buckets and prefixes lie under the configured roots
 *     → Distributed Map: the S3 ListObjectsV2 item reader lists s3://<input bucket>/<inputPrefix>,
 *       the item batcher groups the objects ({Key, Size, …}) into batches,
 *     → each batch: the facekit image's batch handler (lambda/batch.ts) reads and analyses every
 *       object and writes one JSONL file to the output prefix, one line per image (an error line for
 *       an image that could not be analysed),
 *     → the Map's result writer lists every batch run, failed ones included, under
 *       <outputPrefix><execution id>/ (manifest.json, SUCCEEDED_*.json, FAILED_*.json).
 *
 * Idle it costs nothing: a state machine, a function and a log group or two.
 * The execution's prefixes must lie under the configured roots: IAM allows nothing else.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { checkInteger } from './face-detection-api-props.js';
import { DEFAULT_PROJECT_ROOT, FacekitHandler, facekitImageCode, warnIfBundleMissing } from './image-asset.js';
import { acknowledgeXRay, nagResourceName } from './nag-acknowledgements.js';

/** A bucket and a key prefix inside it (`photos/2024/`). */
export interface S3Prefix {
  readonly bucket: s3.IBucket;
  /** Non-empty, ends with `/`, no leading `/`. */
  readonly prefix: string;
}

/** What the batch computes per face (the batch handler's `analysis` input). */
export enum BatchAnalysis {
  /** Box, score and 5 landmarks per face: the detector only. */
  DETECT = 'detect',
  /** Also 106 landmarks, gender and age (what the native route returns). */
  FULL = 'full',
}

export interface FaceBatchProps {
  /** Where images are read from: executions may name this prefix or any prefix under it. */
  readonly input: S3Prefix;
  /** Where results go: executions may name this prefix or any prefix under it. */
  readonly output: S3Prefix;
  /**
   * Batches analysed at once (the Map's MaxConcurrency): each is one function invocation, so this
   * is also the function concurrency a run takes from the account.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Share of items (0..100) whose batches may fail before the whole run fails. A batch fails only
   * when its function invocation fails (timeout, crash, S3 write refused), never for a bad image:
   * that is an error line in the results.
   * @default 5
   */
  readonly toleratedFailurePercentage?: number;
  /**
   * Objects per batch (per function invocation). Larger batches amortise the model load of a cold
   * start; a batch must finish within `timeout`.
   * @default 25
   */
  readonly maxItemsPerBatch?: number;
  /**
   * Memory of the batch function in MB (128..10240); CPU scales with memory.
   * @default 8192
   */
  readonly memorySize?: number;
  /**
   * Timeout of one batch invocation (Lambda's maximum is 15 minutes).
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /** @default lambda.Architecture.X86_64 */
  readonly architecture?: lambda.Architecture;
  /** @default - the project root */
  readonly imageAssetDirectory?: string;
  /** Retention of the function's and the state machine's log groups. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Extra FACEKIT_* variables for the function (same rules as FaceDetectionApi's). @default - none */
  readonly environment?: Record<string, string>;
  /** X-Ray tracing of the state machine and the function. @default false */
  readonly tracing?: boolean;
}

function fail(message: string): never {
  throw new Error(`FaceBatch: ${message}`);
}

function checkPrefix(name: string, location: S3Prefix): void {
  const { prefix } = location;
  if (prefix === '' || !prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('//') || prefix.includes('*')) {
    fail(`${name}.prefix must be a non-empty key prefix ending with "/" (no leading "/", no "//", no "*"), got '${prefix}'`);
  }
}

export class FaceBatch extends Construct {
  /** The state machine: start it with {inputBucket, inputPrefix, outputBucket, outputPrefix, analysis?}. */
  public readonly stateMachine: sfn.StateMachine;
  /** The function analysing one item batch (the facekit image, batch handler). */
  public readonly function: lambda.DockerImageFunction;
  public readonly input: S3Prefix;
  public readonly output: S3Prefix;

  constructor(scope: Construct, id: string, props: FaceBatchProps) {
    super(scope, id);
    checkPrefix('input', props.input);
    checkPrefix('output', props.output);
    const maxConcurrency = props.maxConcurrency ?? 10;
    checkInteger('FaceBatch', 'maxConcurrency', maxConcurrency, 1, 10_000);
    const toleratedFailurePercentage = props.toleratedFailurePercentage ?? 5;
    if (!(toleratedFailurePercentage >= 0 && toleratedFailurePercentage <= 100)) {
      fail(`toleratedFailurePercentage must be a number in 0..100, got ${toleratedFailurePercentage}`);
    }
    const maxItemsPerBatch = props.maxItemsPerBatch ?? 25;
    checkInteger('FaceBatch', 'maxItemsPerBatch', maxItemsPerBatch, 1, 1000);
    const memorySize = props.memorySize ?? 8192;
    checkInteger('FaceBatch', 'memorySize', memorySize, 128, 10240);
    const timeout = props.timeout ?? Duration.minutes(15);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) fail(`timeout must be 1 s..15 min, got ${timeout.toHumanString()}`);
    const environment = { ...(props.environment ?? {}) };
    for (const key of Object.keys(environment)) {
      if (!/^FACEKIT_[A-Z0-9_]+$/.test(key) || key.startsWith('FACEKIT_TEST_') || key === 'FACEKIT_S3_BUCKETS') {
        fail(`environment key ${key} is not allowed (FACEKIT_* only; not FACEKIT_TEST_*, not FACEKIT_S3_BUCKETS)`);
      }
    }
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const imageAssetDirectory = props.imageAssetDirectory ?? DEFAULT_PROJECT_ROOT;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.DESTROY;
    const tracing = props.tracing ?? false;
    this.input = props.input;
    this.output = props.output;
    const inputObjects = props.input.bucket.arnForObjects(`${props.input.prefix}*`);
    const outputObjects = props.output.bucket.arnForObjects(`${props.output.prefix}*`);

    // ---- function: read objects under the input root, write objects under the output root ------
    const functionLogGroup = new logs.LogGroup(this, 'FunctionLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'facekit batch function: read the input prefix, write the output prefix, write its own log group',
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [functionLogGroup.logGroupArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [inputObjects] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [outputObjects] }));
    // SSE-KMS buckets: the key must let the function decrypt what it reads and encrypt what it writes.
    props.input.bucket.encryptionKey?.grantDecrypt(role);
    props.output.bucket.encryptionKey?.grantEncrypt(role);

    this.function = new lambda.DockerImageFunction(this, 'Function', {
      description: 'facekit batch: analyse one item batch of the FaceBatch Distributed Map',
      code: facekitImageCode(imageAssetDirectory, architecture, FacekitHandler.BATCH),
      architecture,
      memorySize,
      timeout,
      role,
      logGroup: functionLogGroup,
      // The runtime refuses s3:// reads outside FACEKIT_S3_BUCKETS; IAM narrows it to the prefix.
      environment: { ...environment, FACEKIT_S3_BUCKETS: props.input.bucket.bucketName },
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    });
    warnIfBundleMissing(this.function, imageAssetDirectory, FacekitHandler.BATCH);

    // ---- state machine --------------------------------------------------------------------------
    const analyseBatch = new tasks.LambdaInvoke(this, 'AnalyseBatch', {
      lambdaFunction: this.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // Concurrency bursts meet the account's Lambda limits: wait and retry rather than fail the batch.
    analyseBatch.addRetry({ errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6 });

    const map = new sfn.DistributedMap(this, 'AnalyseImages', {
      comment: 'List the input prefix, analyse batches of objects, list every batch result',
      // Listing only keys under the input root: the s3:prefix condition key of s3:ListBucket.
      itemReader: scopedTo(
        new sfn.S3ObjectsItemReader({ bucket: props.input.bucket, prefix: sfn.JsonPath.stringAt('$.inputPrefix') }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [props.input.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${props.input.prefix}*` } },
        }),
      ),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch,
        // BatchInput takes paths with `.$` keys (rendered as given).
        batchInput: {
          'inputBucket': props.input.bucket.bucketName,
          'outputBucket': props.output.bucket.bucketName,
          'outputPrefix.$': '$.outputPrefix',
          'analysis.$': '$.analysis',
        },
      }),
      maxConcurrency,
      toleratedFailurePercentage,
      // The actions Step Functions documents for ResultWriter (multipart writes of large results).
      resultWriterV2: scopedTo(
        new sfn.ResultWriterV2({ bucket: props.output.bucket, prefix: sfn.JsonPath.stringAt('$.outputPrefix') }),
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
          resources: [outputObjects],
        }),
      ),
      resultPath: '$.map',
    });
    map.itemProcessor(analyseBatch);

    // `analysis` is optional in the execution input: default it before the map reads it.
    const defaults = new sfn.Pass(this, 'Defaults', {
      comment: 'analysis defaults to full',
      parameters: { analysis: BatchAnalysis.FULL },
      resultPath: '$.defaults',
    });
    const merge = new sfn.Pass(this, 'ApplyDefaults', {
      comment: 'the execution input over the defaults',
      parameters: { 'request.$': 'States.JsonMerge($.defaults, $$.Execution.Input, false)' },
      outputPath: '$.request',
    });

    // The execution names its buckets and prefixes; refuse any outside the configured roots with a
    // clear error (IAM would refuse them too, later and less plainly).
    const inputBucketName = props.input.bucket.bucketName;
    const outputBucketName = props.output.bucket.bucketName;
    const outside = new sfn.Fail(this, 'OutsideConfiguredPrefixes', {
      error: 'facekit.OutsideConfiguredPrefixes',
      cause: `FaceBatch reads under s3://${inputBucketName}/${props.input.prefix} and writes under s3://${outputBucketName}/${props.output.prefix}: give {inputBucket, inputPrefix, outputBucket, outputPrefix} inside those`,
    });
    const checkLocations = new sfn.Choice(this, 'CheckLocations')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.inputBucket'),
          sfn.Condition.isPresent('$.inputPrefix'),
          sfn.Condition.isPresent('$.outputBucket'),
          sfn.Condition.isPresent('$.outputPrefix'),
        ),
        new sfn.Choice(this, 'CheckRoots')
          .when(
            sfn.Condition.and(
              sfn.Condition.stringEquals('$.inputBucket', inputBucketName),
              sfn.Condition.stringMatches('$.inputPrefix', `${props.input.prefix}*`),
              sfn.Condition.stringEquals('$.outputBucket', outputBucketName),
              sfn.Condition.stringMatches('$.outputPrefix', `${props.output.prefix}*`),
            ),
            defaults.next(merge).next(map),
          )
          .otherwise(outside),
      )
      .otherwise(outside);

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention, removalPolicy: logRemovalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'facekit batch: analyse every image under an S3 prefix',
      definitionBody: sfn.DefinitionBody.fromChainable(checkLocations),
      // Execution data holds only keys and counts, never images; ALL also records map-run events.
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: tracing,
    });
    props.output.bucket.encryptionKey?.grantEncryptDecrypt(this.stateMachine);

    new CfnOutput(this, 'StateMachineArn', {
      description: 'FaceBatch state machine (npm run batch -- s3://in/prefix s3://out/prefix, with FACEKIT_BATCH_STATE_MACHINE_ARN set to this)',
      value: this.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'InputRoot', { description: 'Executions read images under this prefix', value: `s3://${props.input.bucket.bucketName}/${props.input.prefix}` });
    new CfnOutput(this, 'OutputRoot', { description: 'Executions write results under this prefix', value: `s3://${props.output.bucket.bucketName}/${props.output.prefix}` });

    this.acknowledgeNagFindings(props, role, tracing);
  }

  /** Lets `grantee` start executions of this state machine, and follow or stop them (nothing else). */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stateMachine.grantStartExecution(grantee);
    this.stateMachine.grantExecution(grantee, 'states:DescribeExecution', 'states:StopExecution');
    return grant;
  }

  private acknowledgeNagFindings(props: FaceBatchProps, functionRole: iam.Role, tracing: boolean): void {
    const stack = Stack.of(this);
    const logicalId = (construct: Construct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
    // How cdk-nag renders the ARNs CDK builds from the state machine's own ARN (child executions).
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    const inputName = `${nagResourceName(props.input.bucket)}/${props.input.prefix}*`;
    const outputName = `${nagResourceName(props.output.bucket)}/${props.output.prefix}*`;
    Validations.of(functionRole).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::${inputName}]`, reason: 'The batch reads whichever objects the item reader listed under the configured input prefix, and nothing outside it.' },
      { id: `AwsSolutions-IAM5[Resource::${outputName}]`, reason: 'The batch writes one result file per item batch under the configured output prefix (names chosen at run time), and nothing outside it.' },
    );
    Validations.of(this.stateMachine).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::${outputName}]`, reason: 'The Map result writer writes its manifest and result files under the output prefix (names chosen by Step Functions).' },
      { id: `AwsSolutions-IAM5[Resource::<${logicalId(this.function)}.Arn>:*]`, reason: 'CDK grants invoking every version and alias of the batch function (its own function only).' },
      { id: `AwsSolutions-IAM5[Resource::${executions}:*]`, reason: 'The Distributed Map describes and stops the child executions of its own state machine, whose names Step Functions chooses.' },
      { id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`, reason: 'The Distributed Map reads its own map runs (execution/<name>/<map run>), whose names Step Functions chooses.' },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CloudWatch Logs delivery for Step Functions (logs:CreateLogDelivery and related) has no resource-level permissions.' },
    );
    if (!tracing) {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason: 'X-Ray tracing is opt-in (tracing: true): it adds cost per execution and the full execution history is in the logs.',
      });
    } else {
      acknowledgeXRay(functionRole);
    }
  }
}

/**
 * Replaces the S3 statements a Map item reader or result writer asks for (CDK's cover the whole
 * bucket) with `statement`, scoped to the configured root.
 */
function scopedTo<T extends { providePolicyStatements(): iam.PolicyStatement[] }>(part: T, statement: iam.PolicyStatement): T {
  part.providePolicyStatements = () => [statement];
  return part;
}
