/**
 * FacekitMonitoring: a CloudWatch dashboard and three alarms for one facekit API stage and its
 * function. Infrastructure only.
 *
 * The alarms rest on metrics AWS always publishes (API Gateway's per-stage Count, 5XXError and
 * Latency; Lambda's Throttles), so they work whatever the function emits. The dashboard also shows
 * the EMF metrics the runtime writes (namespace `facekit`, dimension service=facekit):
 * RequestLatency and the per-stage *Latency metrics (ms), FacesPerImage, Requests (by dialect and
 * status class), Errors (by error code) and ColdStart.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Namespace and service dimension of the runtime's EMF metrics (agreed with lambda/). */
export const FACEKIT_METRIC_NAMESPACE = 'facekit';
export const FACEKIT_METRIC_SERVICE = 'facekit';

export interface FacekitMonitoringOptions {
  /**
   * Create the CloudWatch dashboard (3 dashboards per account are free, then about 3 USD/month each).
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Create the alarms (about 0.10 USD/month each; the 5xx-rate alarm is a metric-math alarm of
   * two metrics, about 0.30 USD).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * The 5xx alarm fires when 5XXError / Count × 100 over one period reaches this percentage
   * (periods without requests count as 0 %). 0 < value ≤ 100.
   * @default 5
   */
  readonly serverErrorRatePercent?: number;
  /**
   * The latency alarm fires when API Gateway's p95 Latency over one period reaches this many
   * milliseconds. The function's timeout is below 29 s; a warm request takes well under a second.
   * @default 10000
   */
  readonly p95LatencyMs?: number;
  /**
   * The throttle alarm fires when the function is throttled at least this many times in one period
   * (reserved concurrency or the account's concurrency is exhausted).
   * @default 1
   */
  readonly throttles?: number;
  /**
   * Length of the period each alarm evaluates.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Consecutive periods that must breach before an alarm fires.
   * @default 1
   */
  readonly evaluationPeriods?: number;
  /**
   * Actions run when an alarm fires (and when it returns to OK), e.g.
   * `new cloudwatch_actions.SnsAction(topic)`.
   * @default - none: the alarms show in the console only
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

export interface ResolvedMonitoringOptions {
  readonly dashboard: boolean;
  readonly alarms: boolean;
  readonly serverErrorRatePercent: number;
  readonly p95LatencyMs: number;
  readonly throttles: number;
  readonly period: Duration;
  readonly evaluationPeriods: number;
  readonly alarmActions: cloudwatch.IAlarmAction[];
}

function fail(message: string): never {
  throw new Error(`FaceDetectionApi: monitoring.${message}`);
}

function concrete(name: string, value: number): number {
  if (Token.isUnresolved(value)) fail(`${name} must be a concrete number, not a token`);
  return value;
}

/** Applies the documented defaults and validates; throws on the first bad value. */
export function resolveMonitoringOptions(options: FacekitMonitoringOptions = {}): ResolvedMonitoringOptions {
  const serverErrorRatePercent = concrete('serverErrorRatePercent', options.serverErrorRatePercent ?? 5);
  if (!(serverErrorRatePercent > 0 && serverErrorRatePercent <= 100)) {
    fail(`serverErrorRatePercent must be a number in (0, 100], got ${serverErrorRatePercent}`);
  }
  const p95LatencyMs = concrete('p95LatencyMs', options.p95LatencyMs ?? 10_000);
  if (!(Number.isInteger(p95LatencyMs) && p95LatencyMs >= 1)) fail(`p95LatencyMs must be an integer ≥ 1, got ${p95LatencyMs}`);
  const throttles = concrete('throttles', options.throttles ?? 1);
  if (!(Number.isInteger(throttles) && throttles >= 1)) fail(`throttles must be an integer ≥ 1, got ${throttles}`);
  const period = options.period ?? Duration.minutes(5);
  const periodSeconds = period.toSeconds();
  // CloudWatch alarm periods: 10, 30 or any multiple of 60 seconds.
  if (!(periodSeconds === 10 || periodSeconds === 30 || (periodSeconds >= 60 && periodSeconds % 60 === 0))) {
    fail(`period must be 10 s, 30 s or a whole number of minutes, got ${period.toHumanString()}`);
  }
  const evaluationPeriods = concrete('evaluationPeriods', options.evaluationPeriods ?? 1);
  if (!(Number.isInteger(evaluationPeriods) && evaluationPeriods >= 1)) fail(`evaluationPeriods must be an integer ≥ 1, got ${evaluationPeriods}`);
  return {
    dashboard: options.dashboard ?? true,
    alarms: options.alarms ?? true,
    serverErrorRatePercent,
    p95LatencyMs,
    throttles,
    period,
    evaluationPeriods,
    alarmActions: [...(options.alarmActions ?? [])],
  };
}

export interface FacekitMonitoringProps {
  readonly stage: apigw.Stage;
  readonly function: lambda.IFunction;
  readonly options: ResolvedMonitoringOptions;
}

export class FacekitMonitoring extends Construct {
  /** The dashboard, when `options.dashboard`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** 5xx responses as a share of requests. */
  public readonly serverErrorRateAlarm?: cloudwatch.Alarm;
  /** API Gateway p95 latency. */
  public readonly latencyAlarm?: cloudwatch.Alarm;
  /** Lambda throttles of the function. */
  public readonly throttleAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FacekitMonitoringProps) {
    super(scope, id);
    const { stage, options } = props;
    const fn = props.function;
    const period = options.period;

    const requests = stage.metricCount({ period, statistic: cloudwatch.Stats.SUM, label: 'requests' });
    const serverErrors = stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM, label: '5xx' });
    const clientErrors = stage.metricClientError({ period, statistic: cloudwatch.Stats.SUM, label: '4xx' });
    // FILL(…, 0): a period without requests has no datapoints; it is 0 %, not missing data.
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(serverErrors, 0) / FILL(requests, 0), 0)',
      usingMetrics: { requests, serverErrors },
      period,
      label: '5xx rate (%)',
    });
    const latency = (statistic: string) => stage.metricLatency({ period, statistic, label: `latency ${statistic}` });
    const throttles = fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM, label: 'throttles' });

    if (options.alarms) {
      const common = {
        evaluationPeriods: options.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      };
      this.serverErrorRateAlarm = serverErrorRate.createAlarm(this, 'ServerErrorRate', {
        ...common,
        threshold: options.serverErrorRatePercent,
        alarmDescription: `facekit: 5xx responses are at least ${options.serverErrorRatePercent} % of requests`,
      });
      this.latencyAlarm = latency(cloudwatch.Stats.p(95)).createAlarm(this, 'P95Latency', {
        ...common,
        threshold: options.p95LatencyMs,
        alarmDescription: `facekit: API Gateway p95 latency is at least ${options.p95LatencyMs} ms`,
      });
      this.throttleAlarm = throttles.createAlarm(this, 'Throttles', {
        ...common,
        threshold: options.throttles,
        alarmDescription: `facekit: the function was throttled at least ${options.throttles} time(s) in ${period.toHumanString()}`,
      });
      for (const alarm of [this.serverErrorRateAlarm, this.latencyAlarm, this.throttleAlarm]) {
        alarm.addAlarmAction(...options.alarmActions);
        alarm.addOkAction(...options.alarmActions);
      }
    }

    if (options.dashboard) {
      // No metric schema ({namespace,dims}): a schema matches only metrics with exactly those
      // dimensions, and Requests/Errors carry more than `service`.
      const search = (term: string, statistic: string, label: string) => new cloudwatch.SearchExpression({
        expression: `SEARCH('Namespace="${FACEKIT_METRIC_NAMESPACE}" service="${FACEKIT_METRIC_SERVICE}" ${term}', '${statistic}', ${period.toSeconds()})`,
        label,
      });
      const runtimeMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
        namespace: FACEKIT_METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { service: FACEKIT_METRIC_SERVICE },
        statistic,
        period,
      });
      const alarmWidgets = [this.serverErrorRateAlarm, this.latencyAlarm, this.throttleAlarm]
        .filter((alarm): alarm is cloudwatch.Alarm => alarm !== undefined)
        .map((alarm) => new cloudwatch.AlarmWidget({ alarm, title: alarm.node.id, width: 8 }));
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
        defaultInterval: Duration.hours(3),
        widgets: [
          [
            new cloudwatch.GraphWidget({ title: 'Requests (API Gateway)', left: [requests, clientErrors, serverErrors], width: 8 }),
            new cloudwatch.GraphWidget({ title: '5xx rate (%)', left: [serverErrorRate], leftYAxis: { min: 0, max: 100 }, width: 8 }),
            new cloudwatch.GraphWidget({
              title: 'Latency (API Gateway, ms)',
              left: [latency(cloudwatch.Stats.p(50)), latency(cloudwatch.Stats.p(95)), latency(cloudwatch.Stats.p(99))],
              width: 8,
            }),
          ],
          [
            new cloudwatch.GraphWidget({
              title: 'Function',
              left: [
                fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
                fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
                throttles,
              ],
              right: [fn.metricDuration({ period, statistic: cloudwatch.Stats.p(95), label: 'duration p95 (ms)' })],
              width: 12,
            }),
            new cloudwatch.GraphWidget({
              title: 'Cold starts and concurrency',
              left: [search('MetricName="ColdStart"', 'Sum', 'cold starts')],
              right: [fn.metric('ConcurrentExecutions', { period, statistic: cloudwatch.Stats.MAXIMUM, label: 'concurrent executions' })],
              width: 12,
            }),
          ],
          [
            new cloudwatch.GraphWidget({
              title: 'Latency per stage, p95 (ms)',
              // Partial match: every metric of the namespace whose name has the token "Latency".
              left: [search('Latency', 'p95', '')],
              width: 8,
            }),
            new cloudwatch.GraphWidget({
              title: 'Requests by dialect and status class',
              left: [search('MetricName="Requests"', 'Sum', '')],
              stacked: true,
              width: 8,
            }),
            new cloudwatch.GraphWidget({
              title: 'Errors by code',
              left: [search('MetricName="Errors"', 'Sum', '')],
              stacked: true,
              width: 8,
            }),
          ],
          [
            new cloudwatch.GraphWidget({
              title: 'Faces per image',
              left: [runtimeMetric('FacesPerImage', cloudwatch.Stats.AVERAGE), runtimeMetric('FacesPerImage', cloudwatch.Stats.p(95))],
              width: 8,
            }),
            ...alarmWidgets.slice(0, 2),
          ],
          alarmWidgets.slice(2),
        ].filter((row) => row.length > 0),
      });
    }
  }
}
