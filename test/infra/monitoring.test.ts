/**
 * FaceDetectionApi's monitoring option: three alarms on AWS-provided metrics (API Gateway 5xx rate
 * by metric math, API Gateway p95 latency, Lambda throttles) and a dashboard that also shows the
 * runtime's EMF metrics (namespace facekit, service=facekit), with documented defaults.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FaceDetectionApi } from '../../lib/face-detection-api.js';
import { makeStack, newApp, removeOutdirs } from './synth.js';

afterAll(removeOutdirs);

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function alarms(template: Template): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).map((alarm) => alarm.Properties);
}

/** The single metric an alarm watches (CDK renders labelled metrics in the Metrics array). */
function watched(alarm: Record<string, any>): { namespace: string; name: string; stat: string; period: number; dimensions: unknown } {
  const [query] = alarm.Metrics as Array<{ MetricStat: { Metric: Record<string, any>; Stat: string; Period: number } }>;
  const { Metric: metric, Stat: stat, Period: period } = query.MetricStat;
  return { namespace: metric.Namespace, name: metric.MetricName, stat, period, dimensions: metric.Dimensions };
}

const watching = (template: Template, name: string) => alarms(template).find((a) => a.Metrics.length === 1 && watched(a).name === name)!;

function logicalIds(template: Template, type: string): string[] {
  return Object.keys(template.findResources(type));
}

describe('monitoring with default options', () => {
  let template: Template;
  let api: FaceDetectionApi;
  beforeAll(() => {
    ({ api } = makeStack());
    template = Template.fromStack(Stack.of(api));
  });

  test('three alarms, no actions', () => {
    expect(alarms(template)).toHaveLength(3);
    for (const alarm of alarms(template)) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
      expect([alarm.ComparisonOperator, alarm.EvaluationPeriods, alarm.TreatMissingData]).toEqual(['GreaterThanOrEqualToThreshold', 1, 'notBreaching']);
    }
    expect([api.monitoring?.serverErrorRateAlarm, api.monitoring?.latencyAlarm, api.monitoring?.throttleAlarm].every(Boolean)).toBe(true);
  });

  test('5xx rate: 100 × 5XXError / Count of this stage over 5 minutes, at 5 %', () => {
    const [stageId] = logicalIds(template, 'AWS::ApiGateway::Stage');
    // API Gateway's metrics are keyed by the API's name: it must be this API's (unique) name.
    const restApiName = (Object.values(template.findResources('AWS::ApiGateway::RestApi') as Resources)[0].Properties.Name) as string;
    expect(restApiName).toMatch(/^Test-FaceDetection-/);
    const alarm = alarms(template).find((a) => a.Metrics.length > 1)!;
    expect(alarm.Threshold).toBe(5);
    const expression = alarm.Metrics.find((m: Record<string, any>) => m.Expression);
    expect(expression.Expression).toBe('IF(FILL(requests, 0) > 0, 100 * FILL(serverErrors, 0) / FILL(requests, 0), 0)');
    const inputs = Object.fromEntries(alarm.Metrics.filter((m: Record<string, any>) => m.MetricStat).map((m: Record<string, any>) => [m.Id, m.MetricStat]));
    expect(Object.keys(inputs).sort()).toEqual(['requests', 'serverErrors']);
    expect(inputs.requests.Metric.MetricName).toBe('Count');
    expect(inputs.serverErrors.Metric.MetricName).toBe('5XXError');
    for (const input of Object.values(inputs) as Array<Record<string, any>>) {
      expect(input.Metric.Namespace).toBe('AWS/ApiGateway');
      expect([input.Stat, input.Period]).toEqual(['Sum', 300]);
      expect(input.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Stage', Value: { Ref: stageId } }, { Name: 'ApiName', Value: restApiName }]));
    }
  });

  test('p95 latency of the stage at 10 s; Lambda throttles of the function at 1', () => {
    const [fnId] = logicalIds(template, 'AWS::Lambda::Function');
    const [stageId] = logicalIds(template, 'AWS::ApiGateway::Stage');
    const latency = watching(template, 'Latency');
    expect([watched(latency).namespace, watched(latency).stat, watched(latency).period, latency.Threshold]).toEqual(['AWS/ApiGateway', 'p95', 300, 10000]);
    expect(watched(latency).dimensions).toEqual(expect.arrayContaining([{ Name: 'Stage', Value: { Ref: stageId } }]));
    const throttles = watching(template, 'Throttles');
    expect([watched(throttles).namespace, watched(throttles).stat, throttles.Threshold]).toEqual(['AWS/Lambda', 'Sum', 1]);
    expect(watched(throttles).dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: fnId } }]);
  });

  test('a dashboard with the AWS metrics and the runtime\'s EMF metrics', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources)[0].Properties.DashboardBody);
    for (const metric of ['5XXError', '4XXError', 'Latency', 'Throttles', 'Duration', 'ConcurrentExecutions']) expect(body).toContain(`"${metric}`.replace('"', '\\"'));
    for (const search of ['MetricName=\\\\\\"Requests\\\\\\"', 'MetricName=\\\\\\"Errors\\\\\\"', 'MetricName=\\\\\\"ColdStart\\\\\\"']) expect(body).toContain(search);
    expect(body).toContain('Namespace=\\\\\\"facekit\\\\\\" service=\\\\\\"facekit\\\\\\"');
    expect(body).toContain('\\"facekit\\",\\"FacesPerImage\\",\\"service\\",\\"facekit\\"');
  });
});

describe('monitoring options', () => {
  test('thresholds, period and actions follow the options', () => {
    const stack = new Stack(newApp(), 'Custom');
    const topic = new sns.Topic(stack, 'Pager', { enforceSSL: true });
    new FaceDetectionApi(stack, 'FaceDetection', {
      wafEnabled: false,
      monitoring: {
        serverErrorRatePercent: 1.5, p95LatencyMs: 3000, throttles: 10, period: Duration.minutes(1), evaluationPeriods: 3,
        alarmActions: [new cloudwatchActions.SnsAction(topic)], dashboard: false,
      },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const [topicId] = logicalIds(template, 'AWS::SNS::Topic');
    expect(alarms(template).map((a) => a.Threshold).sort((a, b) => a - b)).toEqual([1.5, 10, 3000]);
    for (const alarm of alarms(template)) {
      expect(alarm.EvaluationPeriods).toBe(3);
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(watched(watching(template, 'Latency')).period).toBe(60);
  });

  test('dashboard and alarms off: no CloudWatch resources', () => {
    const { api } = makeStack(() => ({ monitoring: { dashboard: false, alarms: false } }));
    const template = Template.fromStack(Stack.of(api));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(api.monitoring).toBeUndefined();
  });

  test.each([
    [{ serverErrorRatePercent: 0 }, /serverErrorRatePercent must be a number in \(0, 100\]/],
    [{ serverErrorRatePercent: 120 }, /serverErrorRatePercent/],
    [{ p95LatencyMs: 0.5 }, /p95LatencyMs must be an integer/],
    [{ throttles: 0 }, /throttles must be an integer/],
    [{ period: Duration.seconds(45) }, /period must be 10 s, 30 s or a whole number of minutes/],
    [{ evaluationPeriods: 0 }, /evaluationPeriods/],
  ])('%j throws a clear error', (monitoring, message) => {
    const stack = new Stack(newApp(), 'Invalid');
    expect(() => new FaceDetectionApi(stack, 'Api', { monitoring })).toThrow(message);
  });
});
