/** The cost model's part of the report: the rows, GetSecret's breakdown against the target and the others' prices, and the load balancer what-if. */
import { total } from './aws-requests.ts';
import { CAPACITY_CALLS } from './capacity.ts';
import type { CostReport } from './costs.ts';
import { money, table } from './format.ts';
import { COMPARISON_PER_MILLION, type CostPerMillion, GET_SECRET_TARGET_PER_MILLION, type OperationProfile, PRICES } from './pricing.ts';

const bytes = (value: number) => `${value.toFixed(0)} B`;

function logBytesPerCall(profile: OperationProfile): number {
  const { audit, function: own, platform, accessLog } = profile.logBytes;
  return audit + own + platform + accessLog;
}

export function renderCost(cost: CostReport): string[] {
  const lines: string[] = [];
  const p = PRICES;
  lines.push(
    '',
    `Cost model: $ per million calls (${p.region} on-demand list prices recorded ${p.recorded}; ${cost.memoryMb} MB arm64 functions from serverless.yml)`,
    `  DynamoDB $${(p.dynamodb.perReadRequestUnit * 1e6).toFixed(3)}/M RRU, $${(p.dynamodb.perWriteRequestUnit * 1e6).toFixed(3)}/M WRU; ` +
      `KMS $${(p.kms.perSymmetricRequest * 1e4).toFixed(2)}/10k (symmetric, RSA_2048), $${(p.kms.perAsymmetricRequest * 1e4).toFixed(2)}/10k (other asymmetric); ` +
      `Lambda $${(p.lambda.perRequest * 1e6).toFixed(2)}/M + $${p.lambda.perGbSecondArm}/GB-s; HTTP API $${(p.apiGateway.perHttpApiRequest * 1e6).toFixed(2)}/M`,
    `  CloudWatch Logs $${p.cloudwatchLogs.perIngestedGb.toFixed(2)}/GB ingested (each event +${p.cloudwatchLogs.eventOverheadBytes} B); ` +
      `ALB $${p.applicationLoadBalancer.perHour}/h + $${p.applicationLoadBalancer.perLcuHour}/LCU-h`,
    '',
  );
  const row = (operation: string, profile: OperationProfile, perMillion: CostPerMillion) => [
    operation,
    profile.readUnits.toFixed(2),
    profile.writeUnits.toFixed(2),
    total(profile.kmsRequests).toFixed(2),
    String(profile.billedMs),
    bytes(logBytesPerCall(profile)),
    money(perMillion.apiGateway),
    money(perMillion.lambdaRequests + perMillion.lambdaDuration),
    money(perMillion.dynamodbReads + perMillion.dynamodbWrites),
    money(perMillion.kms),
    money(perMillion.logsAudit + perMillion.logsOther),
    money(perMillion.auditDeliveryWrites + perMillion.auditDeliveryLambda),
    money(perMillion.total),
  ];
  const alb = cost.whatIf.alb;
  lines.push(
    ...table(
      [
        'operation',
        'RRU',
        'WRU',
        'KMS req',
        'billed ms',
        'logs/call',
        'front $',
        'Lambda $',
        'DynamoDB $',
        'KMS $',
        'Logs $',
        'audit dlv $',
        'total $/M',
      ],
      [
        ...cost.operations.map((r) => row(r.operation, r.profile, r.perMillion)),
        row(`what-if: ${alb.row.operation}`, alb.row.profile, alb.row.perMillion),
      ],
      [false, true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );

  const getSecret = cost.operations.find((r) => r.operation === 'GetSecret');
  if (getSecret) lines.push(...breakdown(cost, getSecret.profile, getSecret.perMillion));
  lines.push(
    '',
    `What-if, an Application Load Balancer in front instead of HTTP API, GetSecret at ${alb.traffic.requestsPerSecond} requests/s:`,
    `  assumed: each client connection carries ${alb.traffic.requestsPerConnection} requests and stays open ${alb.traffic.connectionSeconds} s (ALB's default idle timeout); ` +
      `one listener rule per operation in the route table's order (${alb.rules} rules), GetSecret evaluated against ${alb.traffic.rulesEvaluatedPerRequest}; ` +
      `measured: ${bytes(alb.traffic.bytesPerRequest)} of HTTP per call (SecretClient's request and the gateway's answer)`,
    `  LCUs: new connections ${alb.lcus.newConnections.toFixed(2)}, active connections ${alb.lcus.activeConnections.toFixed(2)}, ` +
      `processed bytes ${alb.lcus.processedBytes.toFixed(2)} (Lambda targets: ${p.applicationLoadBalancer.lcu.lambdaTargetGbPerHour} GB/h per LCU), ` +
      `rule evaluations ${alb.lcus.ruleEvaluations.toFixed(2)} -> billed ${alb.lcus.billed.toFixed(2)} LCU`,
    `  $${alb.perHour.toFixed(4)}/h = $${money(alb.perMillion)} per million requests in place of HTTP API's $${money(p.apiGateway.perHttpApiRequest * 1e6)}; ` +
      `no HTTP API access log (an ALB's go to S3, when turned on). The hourly charge is paid at any rate: at a tenth of the traffic it weighs ten times as much per call.`,
    '',
    `  Capacity units: as DynamoDB Local reported them (ReturnConsumedCapacity, ${CAPACITY_CALLS} calls each) x requests per call of the timed calls` +
      `${Object.values(cost.capacityUnits).some((c) => !c.reported) ? '; some estimated from the request kinds (not reported)' : ''}.`,
    `  Billed ms is the in-process median rounded up; each further ms costs $${cost.lambdaDollarsPerMillionPerMs.toFixed(4)} per million at ${cost.memoryMb} MB.`,
    `  Not included: per-key charges (KMS $${p.kms.perKeyMonth}/month per vault key and per HSM key version), storage (DynamoDB, log retention), data transfer, free tiers.`,
  );
  return lines;
}

function breakdown(cost: CostReport, profile: OperationProfile, perMillion: CostPerMillion): string[] {
  const { logBytes } = profile;
  const settings = cost.logSettings;
  const delivery = cost.auditDelivery;
  const items: [string, number, string][] = [
    ['HTTP API', perMillion.apiGateway, 'one request each'],
    ['Lambda requests', perMillion.lambdaRequests, 'one invocation each'],
    ['Lambda duration', perMillion.lambdaDuration, `${profile.billedMs} ms billed at ${profile.memoryMb} MB`],
    ['DynamoDB reads', perMillion.dynamodbReads, `${profile.readUnits.toFixed(3)} RRU per call`],
    ['DynamoDB writes, in the request', perMillion.dynamodbWrites, `${profile.writeUnits.toFixed(3)} WRU per call`],
    ['KMS', perMillion.kms, `${total(profile.kmsRequests).toFixed(3)} requests per call`],
    [
      'CloudWatch Logs: audit line',
      perMillion.logsAudit,
      logBytes.audit ? `${bytes(logBytes.audit)} per call, measured` : 'none: the record is not written to the log stream',
    ],
    [
      'CloudWatch Logs: other lines',
      perMillion.logsOther,
      `function's own ${bytes(logBytes.function)} (measured, deployed log level), Lambda's ${bytes(logBytes.platform)} ` +
        `(${settings.lambdaLogFormat} format, system level ${settings.systemLogLevel}), access log ${bytes(logBytes.accessLog)}${settings.accessLog ? '' : ' (off)'}`,
    ],
    [
      'audit delivery: DynamoDB writes',
      perMillion.auditDeliveryWrites,
      delivery ? `${delivery.writeUnitsPerRecord.toFixed(3)} WRU per record (${delivery.requests.join(', ')} for ${delivery.records})` : 'none',
    ],
    [
      'audit delivery: Lambda',
      perMillion.auditDeliveryLambda,
      delivery
        ? `one invocation per ${delivery.records} records, ${delivery.billedMsPerInvocation} ms billed: ${delivery.computeMsPerInvocation.toFixed(0)} ms compute + ${delivery.requests.length} x ${delivery.awsWriteRequestMs} ms writes (DynamoDB Local took ${delivery.localDynamoMsPerInvocation.toFixed(0)} ms)`
        : 'none',
    ],
  ];
  const met = perMillion.total <= GET_SECRET_TARGET_PER_MILLION;
  return [
    '',
    'GetSecret through HTTP API, per million calls:',
    ...table(
      ['part', '$/M', 'from'],
      [
        ...items.map(([part, dollars, basis]) => [part, money(dollars), basis]),
        [
          'total',
          money(perMillion.total),
          `target <= $${GET_SECRET_TARGET_PER_MILLION.toFixed(2)}: ${met ? 'met' : 'NOT met'}; Azure Key Vault $${COMPARISON_PER_MILLION.azureKeyVault.toFixed(2)}, AWS Secrets Manager $${COMPARISON_PER_MILLION.awsSecretsManager.toFixed(2)}`,
        ],
      ],
      [false, true, false],
    ).map((line) => `  ${line}`),
  ];
}
