/** The report on stdout: the cases' table, the baselines' drift and the cost model. */
import { total } from './aws-requests.ts';
import { CAPACITY_CALLS } from './capacity.ts';
import type { Report } from './cases.ts';
import { formatCounts, money, ms, signedPercent, table } from './format.ts';
import { PRICES } from './pricing.ts';

export function render(report: Report): string {
  const lines: string[] = [];
  const header = ['operation', 'n', 'median ms', 'p95 ms', 'ratio', 'vs', 'DynamoDB req/call', 'KMS req/call'];
  const baselineNames: Record<string, string> = { 'baseline-a': 'A', 'baseline-b-rsa': 'B rsa', 'baseline-b-ec': 'B ec' };
  const rows = report.cases.map((c) => [
    c.label,
    String(c.summary.n),
    ms(c.summary.median),
    ms(c.summary.p95),
    c.ratio === undefined ? (c.baseline ? 'n/a' : '1 (baseline)') : `${c.ratio.toFixed(2)}x`,
    c.baseline ? (baselineNames[c.baseline] ?? c.baseline) : '',
    c.dynamodb === undefined ? 'see in-process row' : formatCounts(c.dynamodb),
    formatCounts(c.kms ?? {}),
  ]);
  lines.push('', `Coffer benchmark · ${report.machine.platform} · ${report.machine.cpus} CPUs · Node ${report.machine.node} · loopback only`, '');
  lines.push(...table(header, rows, [false, true, true, true, true, false, false, false]));
  const drift = report.cases
    .filter((c) => !c.baseline)
    .map(
      (c) =>
        `${baselineNames[c.id] ?? c.id} ${ms(c.halves.firstMedian)} -> ${ms(c.halves.secondMedian)} ms (${signedPercent(c.halves.secondMedian / c.halves.firstMedian - 1)})`,
    );
  lines.push(
    '',
    `All cases ran interleaved in ${report.rounds} rounds. Baseline drift, median of the first vs the second half of the rounds: ${drift.join('; ')}.`,
    'Requests per call count the measured calls only (warm-up excluded); "-" means none.',
  );

  const cost = report.cost;
  lines.push(
    '',
    `Cost model: $ per million calls through API Gateway + Lambda (${PRICES.region} on-demand list prices recorded ${PRICES.recorded}; ` +
      `${cost.memoryMb} MB arm64 functions from serverless.yml)`,
    `  DynamoDB $${(PRICES.dynamodb.perReadRequestUnit * 1e6).toFixed(3)}/M RRU, $${(PRICES.dynamodb.perWriteRequestUnit * 1e6).toFixed(3)}/M WRU; ` +
      `KMS $${(PRICES.kms.perSymmetricRequest * 1e4).toFixed(2)}/10k (symmetric, RSA_2048), $${(PRICES.kms.perAsymmetricRequest * 1e4).toFixed(2)}/10k (other asymmetric); ` +
      `Lambda $${(PRICES.lambda.perRequest * 1e6).toFixed(2)}/M + $${PRICES.lambda.perGbSecondArm}/GB-s; HTTP API $${(PRICES.apiGateway.perHttpApiRequest * 1e6).toFixed(2)}/M`,
    '',
  );
  const costHeader = ['operation', 'RRU', 'WRU', 'KMS req', 'billed ms', 'DynamoDB $', 'KMS $', 'Lambda $', 'API GW $', 'total $/M'];
  const costRows = cost.operations.map((row) => [
    row.operation,
    row.profile.readUnits.toFixed(2),
    row.profile.writeUnits.toFixed(2),
    total(row.profile.kmsRequests).toFixed(2),
    String(row.profile.billedMs),
    money(row.perMillion.dynamodbReads + row.perMillion.dynamodbWrites),
    money(row.perMillion.kms),
    money(row.perMillion.lambdaRequests + row.perMillion.lambdaDuration),
    money(row.perMillion.apiGateway),
    money(row.perMillion.total),
  ]);
  lines.push(...table(costHeader, costRows, [false, true, true, true, true, true, true, true, true, true]));
  const estimated = Object.values(report.capacityUnits).some((c) => !c.reported);
  lines.push(
    '',
    `  Capacity units: ${estimated ? 'estimated from the request kinds (DynamoDB Local did not report ConsumedCapacity)' : `units per request as DynamoDB Local reported them (ReturnConsumedCapacity, ${CAPACITY_CALLS} calls each) x requests per call of the timed calls`}.`,
    `  Billed ms is the in-process median rounded up; each further ms costs $${cost.lambdaDollarsPerMillionPerMs.toFixed(4)} per million at ${cost.memoryMb} MB.`,
    `  Not included: per-key charges (KMS $${PRICES.kms.perKeyMonth}/month per vault key and per HSM key version), storage, CloudWatch Logs, data transfer, free tiers.`,
  );
  return `${lines.join('\n')}\n`;
}
