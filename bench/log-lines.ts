/**
 * What a call costs in CloudWatch Logs besides the lines the function writes itself (which the
 * benchmark captures): Lambda's own lines per invocation and HTTP API's access log line, in the
 * formats serverless.yml configures. Pure (unit-tested in test/unit/bench-cost.test.ts).
 */
import { PRICES } from './pricing.ts';

export interface DeploymentLogSettings {
  /** `provider.logs.httpApi`: HTTP API writes one access log line per request. */
  accessLog: boolean;
  /** The access log line's format: `provider.logs.httpApi.format`, or osls' default when `httpApi: true` gives none. */
  accessLogFormat?: string;
  /** The operations' `LoggingConfig.LogFormat` (infra/serverless-config.ts `OPERATIONS_LOGGING`). */
  lambdaLogFormat: 'Text' | 'JSON';
  /** Its `SystemLogLevel`: WARN drops Lambda's per-invocation lines (JSON format only). */
  systemLogLevel: 'DEBUG' | 'INFO' | 'WARN';
}

/** osls' access log format for `logs.httpApi: true`: a JSON object of eight context variables. */
export const OSLS_DEFAULT_ACCESS_LOG_FORMAT =
  '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength"}';

/**
 * The log settings a deployment has: the access log from serverless.yml's `provider.logs` block (a
 * deliberately small reader: the file's own layout), Lambda's from the operations' LoggingConfig.
 */
export function deploymentLogSettings(yaml: string, lambda: { LogFormat: string; SystemLogLevel?: string }): DeploymentLogSettings {
  const block = /^ {2}logs:[^\S\n]*\n((?: {4,}.*\n?)*)/m.exec(yaml)?.[1] ?? '';
  const accessLog = /^ {4}httpApi:[^\S\n]*(true|\n {6,}\S)/m.test(block);
  const quoted = /^ {6}format:\s*(?:'((?:[^']|'')*)'|"((?:[^"\\]|\\.)*)")\s*$/m.exec(block);
  const format = quoted ? (quoted[1]?.replaceAll("''", "'") ?? JSON.parse(`"${quoted[2]}"`)) : undefined;
  const level = lambda.SystemLogLevel;
  return {
    accessLog,
    ...(accessLog ? { accessLogFormat: format ?? OSLS_DEFAULT_ACCESS_LOG_FORMAT } : {}),
    lambdaLogFormat: lambda.LogFormat === 'JSON' ? 'JSON' : 'Text',
    systemLogLevel: level === 'DEBUG' || level === 'WARN' ? level : 'INFO',
  };
}

/** Bytes CloudWatch Logs counts for these log events: each message's UTF-8 bytes plus the per-event overhead. */
export function ingestedBytes(messages: readonly string[]): number {
  return messages.reduce((sum, message) => sum + Buffer.byteLength(message.replace(/\n$/, '')) + PRICES.cloudwatchLogs.eventOverheadBytes, 0);
}

const SAMPLE_REQUEST_ID = '6f1c0e52-8a3d-4b7e-9c21-5d4f3a2b1c0d';
const SAMPLE_TIME = '2026-11-28T10:00:00.000Z';

/**
 * Lambda's own lines for one warm invocation: START, END and REPORT in the text format; start and
 * report records in the JSON format; none at system log level WARN (JSON format only: Lambda ignores
 * log levels with the text format).
 */
export function platformLines(settings: DeploymentLogSettings, invocation: { billedMs: number; memoryMb: number }): string[] {
  const duration = Math.max(0, invocation.billedMs - 0.5).toFixed(2);
  // A typical figure: the line's length barely depends on it.
  const used = 100;
  if (settings.lambdaLogFormat === 'JSON') {
    if (settings.systemLogLevel === 'WARN') return [];
    return [
      JSON.stringify({ time: SAMPLE_TIME, type: 'platform.start', record: { requestId: SAMPLE_REQUEST_ID, version: '$LATEST' } }),
      JSON.stringify({
        time: SAMPLE_TIME,
        type: 'platform.report',
        record: {
          requestId: SAMPLE_REQUEST_ID,
          metrics: { durationMs: Number(duration), billedDurationMs: invocation.billedMs, memorySizeMB: invocation.memoryMb, maxMemoryUsedMB: used },
          status: 'success',
        },
      }),
    ];
  }
  return [
    `START RequestId: ${SAMPLE_REQUEST_ID} Version: $LATEST`,
    `END RequestId: ${SAMPLE_REQUEST_ID}`,
    `REPORT RequestId: ${SAMPLE_REQUEST_ID}\tDuration: ${duration} ms\tBilled Duration: ${invocation.billedMs} ms\tMemory Size: ${invocation.memoryMb} MB\tMax Memory Used: ${used} MB\t`,
  ];
}

/**
 * HTTP API's access log line for this request in the given format: each `$context` variable filled in
 * with a typical value (API Gateway writes `-` for one without a value, as for a request that
 * succeeded, the error variables).
 */
export function accessLogLine(
  format: string,
  request: { method: string; routeKey: string; path: string; status: number; responseBodyBytes: number },
): string {
  const values: Record<string, string> = {
    requestId: 'Xy1AbCdEoAMEbYw=',
    'identity.sourceIp': '203.0.113.10',
    requestTime: '28/Nov/2026:10:00:00 +0000',
    requestTimeEpoch: '1795860000000',
    httpMethod: request.method,
    routeKey: request.routeKey,
    path: request.path,
    status: String(request.status),
    protocol: 'HTTP/1.1',
    responseLength: String(request.responseBodyBytes),
  };
  return format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => values[name] ?? '-');
}
