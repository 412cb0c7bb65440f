/**
 * cdk-nag AwsSolutions checks on the facekit stack: zero unacknowledged errors and warnings, and every
 * acknowledgment is one we expect, with a reason.
 *
 * cdk-nag 3.x is a CDK policy-validation plugin: the app registers it with
 * `Validations.of(app).addPlugins(new AwsSolutionsChecks(app))` (bin/facekit.ts); tests call
 * `validateScope(stack)` directly. Findings are acknowledged with `Validations.of(x).acknowledge`
 * (v3 removed NagSuppressions).
 */
import { jest } from '@jest/globals';
import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceDetectionApi, FacekitAuth, type FaceDetectionApiProps } from '../../lib/face-detection-api.js';
import { FacekitStack } from '../../lib/facekit-stack.js';
import { makeStack, newApp, removeOutdirs } from './synth.js';

afterAll(removeOutdirs);

/** The acknowledgments recorded anywhere in the tree: rule id → reasons. */
function acknowledgments(stack: Stack): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of stack.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const key = id.replace(/^annotation::/i, '');
        if (!key.startsWith('AwsSolutions-')) continue;
        out.set(key, [...(out.get(key) ?? []), reason]);
      }
    }
  }
  return out;
}

function violations(stack: Stack) {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity,
    resources: v.violatingResources.map((r) => r.constructPath),
  }));
}

const cases: Array<[string, (b: Record<string, s3.IBucket>) => FaceDetectionApiProps, string[]]> = [
  ['default props', () => ({}), ['AwsSolutions-COG4', 'AwsSolutions-APIG2', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]']],
  ['apiKey mode with quota', () => ({ auth: FacekitAuth.API_KEY, apiKeyQuotaLimit: 1000 }), ['AwsSolutions-COG4', 'AwsSolutions-APIG2', 'AwsSolutions-APIG4', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]']],
  [
    'buckets, CI bucket, WAF off, tracing on, no account role',
    (b) => ({ sourceBuckets: [b.photos], ciBucket: b['ci-images'], wafEnabled: false, tracing: true, apiGatewayCloudWatchRole: false }),
    [
      'AwsSolutions-COG4',
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::photos/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::ci-images/*]',
    ],
  ],
];

describe.each(cases)('AwsSolutions checks: %s', (_name, props, expectedAcks) => {
  let stack: Stack;
  beforeAll(() => {
    ({ stack } = makeStack(props, ['photos', 'ci-images']));
  });

  test('no unacknowledged errors or warnings', () => {
    expect(violations(stack)).toEqual([]);
  });

  test('only the expected acknowledgments, each with a specific reason', () => {
    const acks = acknowledgments(stack);
    expect([...acks.keys()].sort()).toEqual([...expectedAcks].sort());
    for (const [, reasons] of acks) {
      for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
    }
  });

  test('every acknowledgment is needed (removing any would produce a finding)', () => {
    // Build the same stack with acknowledge() turned into a no-op: each acknowledged id must then
    // show up as a finding, so no acknowledgment is stale or broader than needed.
    const spy = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let bare: Stack;
    try {
      ({ stack: bare } = makeStack(props, ['photos', 'ci-images']));
    } finally {
      spy.mockRestore();
    }
    expect(acknowledgments(bare)).toEqual(new Map());
    const found = new Set(violations(bare).map((v) => v.rule));
    for (const id of expectedAcks) expect(found).toContain(id);
  });
});

describe('AwsSolutions checks are live', () => {
  test('an unacknowledged problem is reported', () => {
    const { stack } = makeStack();
    new s3.Bucket(stack, 'CarelessBucket');
    const rules = violations(stack).map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});

describe('the app stack (context-driven) passes the checks', () => {
  test('FacekitStack with apiKey auth and buckets from context', () => {
    const app = newApp({ auth: 'apiKey', sourceBuckets: 'photos-a,photos-b', ciBucket: 'ci-images', memorySize: '4096' });
    const stack = new FacekitStack(app, 'Facekit');
    expect(violations(stack)).toEqual([]);
    expect(stack.faceApi.apiKey).toBeDefined();
  });
});

describe('buckets defined in the same stack', () => {
  test('the IAM5 acknowledgment matches the finding for an owned bucket too', () => {
    const app = newApp();
    const stack = new Stack(app, 'Owned');
    const bucket = new s3.Bucket(stack, 'Images', { enforceSSL: true });
    new FaceDetectionApi(stack, 'FaceDetection', { sourceBuckets: [bucket] });
    const onApi = violations(stack).filter((v) => v.resources.some((p) => p?.startsWith('Owned/FaceDetection/')));
    expect(onApi).toEqual([]);
  });
});
