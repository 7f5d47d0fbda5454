/**
 * What a call costs in CloudWatch Logs besides the lines the function writes itself (which the
 * benchmark captures): Lambda's own lines per invocation and HTTP API's access log line, in the
 * formats serverless.yml configures. Pure (unit-tested in test/unit/bench-cost.test.ts).
 */
import { PRICES } from './pricing.ts';

export interface DeploymentLogSettings {
  /** `provider.logs.httpApi`: HTTP API writes one access log line per request (osls' default format unless one is given). */
  accessLog: boolean;
  /** `provider.logs.lambda.logFormat`. */
  lambdaLogFormat: 'Text' | 'JSON';
  /** `provider.logs.lambda.systemLogLevel`: WARN drops Lambda's per-invocation lines (JSON format only). */
  systemLogLevel: 'DEBUG' | 'INFO' | 'WARN';
}

/** The log settings in serverless.yml's `provider.logs` block (a deliberately small reader: the file's own layout). */
export function deploymentLogSettings(yaml: string): DeploymentLogSettings {
  const block = /^ {2}logs:[^\S\n]*\n((?: {4,}.*\n?)*)/m.exec(yaml)?.[1] ?? '';
  const accessLog = /^ {4}httpApi:[^\S\n]*(true|\n {6,}\S)/m.test(block);
  const format = /^ {6}logFormat:\s*['"]?(JSON|Text)/m.exec(block)?.[1];
  const level = /^ {6}systemLogLevel:\s*['"]?(DEBUG|INFO|WARN)/m.exec(block)?.[1];
  return {
    accessLog,
    lambdaLogFormat: format === 'JSON' ? 'JSON' : 'Text',
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
 * HTTP API's access log line in osls' default format (what `logs.httpApi: true` configures:
 * requestId, ip, requestTime, httpMethod, routeKey, status, protocol, responseLength), filled in
 * with typical values for this request.
 */
export function accessLogLine(request: { method: string; routeKey: string; status: number; responseBodyBytes: number }): string {
  return JSON.stringify({
    requestId: 'Xy1AbCdEoAMEbYw=',
    ip: '203.0.113.10',
    requestTime: '28/Nov/2026:10:00:00 +0000',
    httpMethod: request.method,
    routeKey: request.routeKey,
    status: String(request.status),
    protocol: 'HTTP/1.1',
    responseLength: String(request.responseBodyBytes),
  });
}
