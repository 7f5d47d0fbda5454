import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { albDollarsPerMillion, albLcus } from '../../bench/alb.ts';
import { httpMessageBytes } from '../../bench/http-bytes.ts';
import { accessLogLine, deploymentLogSettings, ingestedBytes, OSLS_DEFAULT_ACCESS_LOG_FORMAT, platformLines } from '../../bench/log-lines.ts';
import { captureOutput, isAuditLine } from '../../bench/output-capture.ts';
import { costPerMillion, type OperationProfile, PRICES } from '../../bench/pricing.ts';
import { RowRefused, refuseUnlessAllSucceeded } from '../../bench/refusal.ts';
import { OPERATIONS_LOGGING } from '../../infra/serverless-config.ts';

const traffic = { requestsPerSecond: 1000, requestsPerConnection: 100, connectionSeconds: 60, bytesPerRequest: 2000, rulesEvaluatedPerRequest: 4 };

describe('load balancer capacity units', () => {
  it('computes each dimension from the traffic and bills the highest', () => {
    const lcus = albLcus(traffic);
    expect(lcus.newConnections).toBeCloseTo(10 / 25, 10); // 10 new connections/s, 25 per LCU
    expect(lcus.activeConnections).toBeCloseTo(600 / 3000, 10); // 10/s open for 60 s each
    expect(lcus.processedBytes).toBeCloseTo(7.2 / 0.4, 10); // 2 MB/s = 7.2 GB/h; Lambda targets 0.4 GB/h per LCU
    expect(lcus.ruleEvaluations).toBe(0); // the first 10 rules are free
    expect(lcus.billed).toBe(lcus.processedBytes);
  });

  it('charges rule evaluations beyond the first ten, and new connections when clients do not reuse them', () => {
    const lcus = albLcus({ ...traffic, rulesEvaluatedPerRequest: 30, requestsPerConnection: 1, bytesPerRequest: 100 });
    expect(lcus.ruleEvaluations).toBeCloseTo((1000 * 20) / 1000, 10);
    expect(lcus.newConnections).toBeCloseTo(1000 / 25, 10);
    expect(lcus.billed).toBe(lcus.newConnections);
  });

  it('turns an hour of LCUs and the hourly charge into dollars per million requests', () => {
    const { perHour, perMillion, lcus } = albDollarsPerMillion(traffic);
    expect(perHour).toBeCloseTo(PRICES.applicationLoadBalancer.perHour + lcus.billed * PRICES.applicationLoadBalancer.perLcuHour, 12);
    expect(perMillion).toBeCloseTo((perHour / 3_600_000) * 1e6, 12);
    // Half the traffic pays the same hourly charge over half the requests.
    expect(albDollarsPerMillion({ ...traffic, requestsPerSecond: 500 }).perMillion).toBeGreaterThan(perMillion);
  });
});

const profile: OperationProfile = {
  readUnits: 1,
  writeUnits: 0,
  kmsRequests: {},
  billedMs: 3,
  memoryMb: 1024,
  logBytes: { audit: 600, function: 300, platform: 300, accessLog: 250 },
  auditDelivery: { writeUnits: 1, invocations: 0.01, billedMs: 0.5, memoryMb: 1024 },
};

describe('cost per million calls', () => {
  it('adds up every part behind HTTP API, the audit line and its delivery included', () => {
    const cost = costPerMillion(profile);
    expect(cost.apiGateway).toBeCloseTo(1, 10);
    expect(cost.lambdaRequests).toBeCloseTo(0.2, 10);
    expect(cost.lambdaDuration).toBeCloseTo(0.003 * PRICES.lambda.perGbSecondArm * 1e6, 10);
    expect(cost.dynamodbReads).toBeCloseTo(0.125, 10);
    expect(cost.logsAudit).toBeCloseTo(600e-9 * 0.5 * 1e6, 10);
    expect(cost.logsOther).toBeCloseTo(850e-9 * 0.5 * 1e6, 10);
    expect(cost.auditDeliveryWrites).toBeCloseTo(0.625, 10);
    expect(cost.auditDeliveryLambda).toBeCloseTo(0.01 * 0.2 + 0.0005 * PRICES.lambda.perGbSecondArm * 1e6, 10);
    const { total, ...parts } = cost;
    expect(total).toBeCloseTo(
      Object.values(parts).reduce((a, b) => a + b, 0),
      12,
    );
  });

  it('behind a load balancer, pays its cost instead of HTTP API and no HTTP API access log', () => {
    const http = costPerMillion(profile);
    const alb = costPerMillion(profile, { kind: 'alb', perMillion: 0.05 });
    expect(alb.apiGateway).toBe(0.05);
    expect(http.logsOther - alb.logsOther).toBeCloseTo(250e-9 * 0.5 * 1e6, 10);
    expect(alb.logsAudit).toBe(http.logsAudit);
  });

  it('has no delivery part when the request writes its record itself', () => {
    const { auditDelivery: _, ...inline } = profile;
    const cost = costPerMillion({ ...inline, writeUnits: 1, logBytes: { ...profile.logBytes, audit: 0 } });
    expect(cost.auditDeliveryWrites).toBe(0);
    expect(cost.auditDeliveryLambda).toBe(0);
    expect(cost.dynamodbWrites).toBeCloseTo(0.625, 10);
  });
});

describe('log lines', () => {
  const yaml = (logs: string) => `provider:\n  name: aws\n  logs:\n${logs}\n  httpApi:\n    payload: '2.0'\n`;

  it("reads the access log from serverless.yml and Lambda's settings from the functions' LoggingConfig", () => {
    const text = { LogFormat: 'Text' };
    expect(deploymentLogSettings(yaml('    httpApi: true'), text)).toEqual({
      accessLog: true,
      accessLogFormat: OSLS_DEFAULT_ACCESS_LOG_FORMAT,
      lambdaLogFormat: 'Text',
      systemLogLevel: 'INFO',
    });
    expect(
      deploymentLogSettings(yaml("    httpApi:\n      format: '$context.requestId $context.status'"), { LogFormat: 'JSON', SystemLogLevel: 'WARN' }),
    ).toEqual({
      accessLog: true,
      accessLogFormat: '$context.requestId $context.status',
      lambdaLogFormat: 'JSON',
      systemLogLevel: 'WARN',
    });
    expect(deploymentLogSettings(yaml('    httpApi:\n      format: "{\\"id\\":\\"$context.requestId\\"}"'), text).accessLogFormat).toBe(
      '{"id":"$context.requestId"}',
    );
    expect(deploymentLogSettings(yaml('    httpApi: false'), text)).toEqual({ accessLog: false, lambdaLogFormat: 'Text', systemLogLevel: 'INFO' });
    expect(deploymentLogSettings('provider:\n  name: aws\n', text)).toMatchObject({ accessLog: false });
  });

  it("reads this project's own settings: the short access log, and JSON at system level WARN", async () => {
    const yamlText = await readFile(new URL('../../serverless.yml', import.meta.url), 'utf8');
    const settings = deploymentLogSettings(yamlText, OPERATIONS_LOGGING);
    expect(settings).toMatchObject({ accessLog: true, lambdaLogFormat: 'JSON', systemLogLevel: 'WARN' });
    expect(settings.accessLogFormat).toMatch(/^\$context\.requestId \$context\.identity\.sourceIp /);
    expect(platformLines(settings, { billedMs: 1, memoryMb: 1024 })).toEqual([]);
  });

  it("counts each event's message and CloudWatch's per-event overhead", () => {
    expect(ingestedBytes(['abc\n', 'é'])).toBe(3 + 2 + 2 * PRICES.cloudwatchLogs.eventOverheadBytes);
    expect(ingestedBytes([])).toBe(0);
  });

  it("writes Lambda's own lines by format, and none at system level WARN in the JSON format only", () => {
    const invocation = { billedMs: 3, memoryMb: 1024 };
    expect(platformLines({ accessLog: true, lambdaLogFormat: 'Text', systemLogLevel: 'INFO' }, invocation)).toHaveLength(3);
    expect(platformLines({ accessLog: true, lambdaLogFormat: 'Text', systemLogLevel: 'WARN' }, invocation)).toHaveLength(3);
    const json = platformLines({ accessLog: true, lambdaLogFormat: 'JSON', systemLogLevel: 'INFO' }, invocation);
    expect(json.map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['platform.start', 'platform.report']);
    expect(platformLines({ accessLog: true, lambdaLogFormat: 'JSON', systemLogLevel: 'WARN' }, invocation)).toEqual([]);
  });

  it('fills an access log format with typical values, and - for variables without one', () => {
    const request = { method: 'GET', routeKey: 'GET /secrets/{name}/{version}', path: '/secrets/s/v1', status: 200, responseBodyBytes: 296 };
    const line = JSON.parse(accessLogLine(OSLS_DEFAULT_ACCESS_LOG_FORMAT, request));
    expect(Object.keys(line)).toEqual(['requestId', 'ip', 'requestTime', 'httpMethod', 'routeKey', 'status', 'protocol', 'responseLength']);
    expect(line).toMatchObject({ routeKey: 'GET /secrets/{name}/{version}', status: '200', responseLength: '296' });
    expect(accessLogLine('$context.httpMethod $context.path $context.status $context.error.responseType', request)).toBe('GET /secrets/s/v1 200 -');
  });

  it('tells audit lines from the other lines', () => {
    expect(isAuditLine('{"cofferAudit":1,"record":{"category":"AuditEvent","vault":"v"}}')).toBe(true);
    expect(isAuditLine('{"level":"INFO","message":"request","status":200}')).toBe(false);
  });

  it('captures standard output, calls the writers back and gives the streams back afterwards', async () => {
    const original = process.stdout.write;
    const { result, lines } = await captureOutput(async () => {
      await new Promise<void>((resolve, reject) => process.stdout.write('one\ntwo\n', (error) => (error ? reject(error) : resolve())));
      process.stderr.write('three\n');
      return 42;
    });
    expect(result).toBe(42);
    expect(lines).toEqual(['one', 'two', 'three']);
    expect(process.stdout.write).toBe(original);
  });
});

describe('HTTP message size', () => {
  it('counts the start line, each header line, the blank line and the body', () => {
    const size = httpMessageBytes('GET /x HTTP/1.1', [['host', 'a']], 10);
    expect(size).toBe('GET /x HTTP/1.1\r\n'.length + 'host: a\r\n'.length + 2 + 10);
  });
});

describe('refusing rows', () => {
  it('lets a row whose calls all succeeded through', () => {
    expect(() => refuseUnlessAllSucceeded('row', 10, [])).not.toThrow();
  });

  it('refuses a row with any failed call, naming the row, the count and the errors', () => {
    const refuse = () => refuseUnlessAllSucceeded('GetSecret x 32', 100, ['503 Service Unavailable', '503 Service Unavailable', 'socket hang up']);
    expect(refuse).toThrow(RowRefused);
    expect(refuse).toThrow('row "GetSecret x 32" refused: 3 of 100 calls failed: 503 Service Unavailable; socket hang up');
  });
});
