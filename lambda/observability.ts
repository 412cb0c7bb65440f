/**
 * Logs, metrics and traces through Powertools for AWS Lambda (TypeScript)
 * (https://docs.aws.amazon.com/powertools/typescript/latest/): one Logger, Metrics and Tracer per
 * process, shared by the Lambda handler, the local server and the CLI. The router reports each
 * request as a RequestLog; `requestObserver` turns it into one structured log line and EMF metrics.
 *
 * Metric names are a contract with the CDK dashboard and alarms (namespace and service `facekit`).
 * The Tracer switches itself off outside Lambda (and with POWERTOOLS_TRACE_ENABLED=false), so the
 * local server and the CLI run without X-Ray.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { RequestLog, RequestLogger } from './router.js';

export const SERVICE_NAME = 'facekit';
export const METRICS_NAMESPACE = 'facekit';


export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/**
 * A Logger whose every line goes to stderr: the CLI's stdout carries only its JSON output.
 * Powertools picks the console stream from the level it prints at (info → stdout), so lines are
 * printed at WARN's stream while keeping their own `level` attribute.
 */
class StderrLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    super.printLog(LOG_LEVEL_WARN, log);
  }
}
/** Powertools' numeric WARN threshold (LogLevelThreshold.WARN). */
const LOG_LEVEL_WARN = 16;

export function createStderrLogger(): Logger {
  return new StderrLogger({ serviceName: SERVICE_NAME });
}

/** 200 → "2xx": few dimension values, so the dashboard sums them without a metric math per code. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** The per-stage milliseconds of a RequestLog, by metric name. */
const STAGE_METRICS = [
  ['FetchLatency', 'fetchMs'],
  ['DecodeLatency', 'decodeMs'],
  ['DetectLatency', 'detectMs'],
  ['LandmarksLatency', 'landmarksMs'],
  ['GenderAgeLatency', 'genderAgeMs'],
  ['AttributesLatency', 'attributesMs'],
] as const;
/** Stages that only run when asked for: a 0 means "not run" and would drag their averages down. */
const OPTIONAL_STAGES = new Set<string>(['landmarksMs', 'genderAgeMs', 'attributesMs']);

/**
 * Adds one request's metrics. Latencies and faces go into the invocation's EMF blob (flushed by
 * logMetrics, or `publishStoredMetrics`); Requests and Errors carry their own dimensions, so each
 * is a single-metric blob of its own (EMF gives all metrics in one blob the same dimensions).
 */
export function recordRequestMetrics(target: Metrics, entry: RequestLog): void {
  target.addMetric('RequestLatency', MetricUnit.Milliseconds, entry.totalMs);
  for (const [name, field] of STAGE_METRICS) {
    const value = entry[field];
    if (value === undefined || (OPTIONAL_STAGES.has(field) && value === 0)) continue;
    target.addMetric(name, MetricUnit.Milliseconds, value);
  }
  if (entry.faces !== undefined) target.addMetric('FacesPerImage', MetricUnit.Count, entry.faces);

  const requests = target.singleMetric();
  requests.addDimensions({ dialect: entry.dialect, status: statusClass(entry.status) });
  requests.addMetric('Requests', MetricUnit.Count, 1);
  if (entry.errorCode) {
    const errors = target.singleMetric();
    errors.addDimension('errorCode', entry.errorCode);
    errors.addMetric('Errors', MetricUnit.Count, 1);
  }
}

export interface RequestObserverOptions {
  readonly logger?: Logger;
  /** Record EMF metrics here (the Lambda handler); omitted, only the log line is written. */
  readonly metrics?: Metrics;
  /** Flush the metrics after each request (no logMetrics middleware around it, e.g. a long-running server). */
  readonly publishEachRequest?: boolean;
}

/**
 * The router's `log` option: one structured line per request (id, route, dialect, status, error
 * code, faces, per-stage ms; never the body or the image) and, when given a Metrics, its metrics.
 */
export function requestObserver(options: RequestObserverOptions = {}): RequestLogger {
  const target = options.logger ?? logger;
  return (entry) => {
    // INFO whatever the status: the status and error code say what happened; alarms use the metrics.
    target.info('request', { ...entry });
    if (options.metrics) {
      recordRequestMetrics(options.metrics, entry);
      if (options.publishEachRequest) options.metrics.publishStoredMetrics();
    }
  };
}
