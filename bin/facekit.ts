#!/usr/bin/env node
/**
 * The CDK app: one facekit stack, checked by cdk-nag's AwsSolutions pack during synth.
 * Run through cdk.json ("npx tsx bin/facekit.ts"); options come from context, see lib/facekit-stack.ts.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FacekitStack } from '../lib/facekit-stack.js';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Facekit';

new FacekitStack(app, stackName, {
  description: 'facekit: self-hosted face detection API (API Gateway + container-image Lambda) and batch over S3 prefixes (Step Functions)',
});

// cdk-nag 3.x is a policy-validation plugin (v2's Aspects/NagSuppressions API is gone); findings
// are acknowledged in the construct with Validations.of(...).acknowledge, each with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
