/**
 * The cdk-nag (AwsSolutions) findings facekit's design accepts, each with its reason. Recorded with
 * `Validations.of(...).acknowledge` (cdk-nag 3.x has no NagSuppressions), on the narrowest scope.
 * test/infra/cdk-nag.test.ts checks that every acknowledgement here is needed.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { FacekitAuth, type ResolvedProps } from './face-detection-api-props.js';

/** The actions `bucket.grantRead(principal)` grants (aws-cdk-lib's S3 read action set). */
const GRANT_READ_WILDCARD_ACTIONS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*'];

/** How cdk-nag renders a bucket ARN in an IAM5 finding id. */
export function nagResourceName(bucket: s3.IBucket): string {
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

/** The findings of the API construct: its REST API, its function role and the account logging role. */
export function acknowledgeApiFindings(p: ResolvedProps, api: apigw.RestApi, role: iam.Role): void {
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-COG4',
      reason: p.auth === FacekitAuth.IAM
        ? 'Callers are AWS principals: every method uses AWS_IAM (SigV4) authorization instead of a Cognito user pool.'
        : 'API-key mode is for server-to-server clients of the emulated cloud APIs, which cannot obtain Cognito tokens; keys are rate-limited by a usage plan.',
    },
    {
      id: 'AwsSolutions-APIG2',
      reason: 'Bodies are binary, multipart, urlencoded or dialect-specific JSON; the function validates them and must answer in the caller\'s API dialect, which API Gateway request validation cannot do.',
    },
  );
  if (p.auth === FacekitAuth.API_KEY) {
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'auth=apiKey was chosen explicitly: every method requires an API key bound to a throttled usage plan (no unauthenticated access).',
    });
  }
  if (!p.wafEnabled) {
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'wafEnabled=false was chosen explicitly (cost); stage throttling still applies.',
    });
  }
  const cwRole = api.node.tryFindChild('CloudWatchRole');
  if (cwRole) {
    Validations.of(cwRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-wide API Gateway logging role is shared by every REST API in the region, so it uses the AWS managed policy made for it.',
    });
  }
  if (p.tracing) acknowledgeXRay(role);
  const buckets = [...p.sourceBuckets, ...(p.ciBucket ? [p.ciBucket] : [])];
  if (buckets.length > 0) {
    Validations.of(role).acknowledge(
      ...GRANT_READ_WILDCARD_ACTIONS.map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: 'Read access comes from bucket.grantRead (the S3 read action set, which also covers KMS-encrypted buckets); it grants reading only, on the configured buckets only.',
      })),
      ...buckets.map((bucket) => ({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(bucket)}/*]`,
        reason: 'Reading applies to objects; the function may read any key of a bucket it was configured with (images are addressed by arbitrary s3:// URLs).',
      })),
    );
  }
}

/** X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions. */
export function acknowledgeXRay(role: IConstruct): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
  });
}
