/** The report on stdout: the latency rows, the baselines' drift, the concurrency rows and the cost model. */
import type { Report } from './cases.ts';
import { formatCounts, ms, signedPercent, table } from './format.ts';
import { renderCost } from './report-cost.ts';

/** A baseline's short name in the tables: A, C, and B or D with its algorithm (B rsa, B ec, B es384, D rsa...). */
function baselineName(id: string): string {
  if (id === 'baseline-a') return 'A';
  if (id === 'baseline-c' || id === 'concurrent-baseline-c') return 'C';
  const withAlgorithm = /^baseline-([bd])-(.+)$/.exec(id);
  return withAlgorithm ? `${withAlgorithm[1]!.toUpperCase()} ${withAlgorithm[2]}` : id;
}

export function render(report: Report): string {
  const lines: string[] = [];
  const header = ['operation', 'n', 'median ms', 'p95 ms', 'ratio', 'vs', 'DynamoDB req/call', 'KMS req/call'];
  const rows = report.cases.map((c) => [
    c.label,
    String(c.summary.n),
    ms(c.summary.median),
    ms(c.summary.p95),
    c.ratio === undefined ? (c.baseline ? 'n/a' : '1 (baseline)') : `${c.ratio.toFixed(2)}x`,
    c.baseline ? baselineName(c.baseline) : '',
    c.dynamodb === undefined ? 'in another process' : formatCounts(c.dynamodb),
    formatCounts(c.kms ?? {}),
  ]);
  lines.push('', `Coffer benchmark · ${report.machine.platform} · ${report.machine.cpus} CPUs · Node ${report.machine.node} · loopback only`, '');
  if (report.mode === 'smoke')
    lines.push('SMOKE RUN: a few calls per row, to show that every row runs and succeeds. The numbers below mean nothing.', '');
  lines.push(...table(header, rows, [false, true, true, true, true, false, false, false]));
  const drift = report.cases
    .filter((c) => !c.baseline)
    .map(
      (c) =>
        `${baselineName(c.id)} ${ms(c.halves.firstMedian)} -> ${ms(c.halves.secondMedian)} ms (${signedPercent(c.halves.secondMedian / c.halves.firstMedian - 1)})`,
    );
  lines.push(
    '',
    `All cases ran interleaved in ${report.rounds} rounds; every call's answer was checked and all succeeded. Baseline drift, median of the first vs the second half of the rounds: ${drift.join('; ')}.`,
    'Requests per call count the measured calls only (warm-up excluded); "-" means none. The gateway and C make their DynamoDB requests in their own processes.',
  );

  const { plan, rows: concurrent } = report.concurrency;
  lines.push(
    '',
    `Concurrency: ${plan.clients} clients (one SecretClient and connection each) calling back to back, ${plan.rounds} rounds of ${plan.secondsPerRound} s per row, interleaved`,
    '',
  );
  lines.push(
    ...table(
      ['operation', 'clients', 's', 'calls', 'errors', 'req/s', 'median ms', 'p99 ms', 'req/s vs C', 'p99 vs C'],
      concurrent.map((c) => [
        c.label,
        String(c.clients),
        c.seconds.toFixed(1),
        String(c.calls),
        String(c.errors),
        c.throughput.toFixed(0),
        ms(c.summary.median),
        ms(c.summary.p99),
        c.throughputRatio === undefined ? '' : `${c.throughputRatio.toFixed(2)}x`,
        c.p99Ratio === undefined ? '' : `${c.p99Ratio.toFixed(2)}x`,
      ]),
      [false, true, true, true, true, true, true, true, true, true],
    ),
  );

  lines.push(...renderCost(report.cost));
  return `${lines.join('\n')}\n`;
}
