import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../bench/cases.ts';
import { BENCH_STACK } from '../../bench/setup.ts';
import { type RunningStack, startStack } from '../../dev/stack.ts';
import { eventsLogLines, waitFor } from '../support/events.ts';
import { adminSecretCredential, localStack, secretClient, uniqueName } from '../support/local.ts';

/**
 * The benchmark once broke unnoticed when the access model changed, because nothing in the test suite
 * ran its set-up. This runs `npm run bench -- --smoke` as a developer does: its own stack, the real
 * set-up, every latency case, the concurrency rows and every cost step on the same code as a measured
 * run, with a call or a few each. The bench refuses a row whose calls did not all succeed and then
 * exits non-zero: that fails this test, naming the row. No timing is asserted (bench/README.md).
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** A smoke run takes about 10 s on an idle 2-core machine; the run is stopped (and its stack with it) after this. */
const SMOKE_LIMIT_MS = 60_000;

const LATENCY_ROWS = [
  'baseline-a',
  'get-secret-handler',
  'get-secret-strict-handler',
  'baseline-c',
  'get-secret-sdk',
  'sign-ec-hsm-handler',
  'baseline-b-rsa',
  'sign-rsa-pure',
  'baseline-d-rsa',
  'sign-rsa-handler',
  'baseline-b-ec',
  'sign-ec-pure',
  'baseline-d-ec',
  'sign-ec-handler',
  'baseline-b-es384',
  'sign-es384-pure',
  'baseline-b-es512',
  'sign-es512-pure',
  'baseline-b-es256k',
  'sign-es256k-pure',
];
const CONCURRENCY_ROWS = ['concurrent-baseline-c', 'concurrent-gateway'];
const COST_ROWS = ['GetSecret', 'Sign, software RSA-2048 PS256', 'Sign, software P-256 ES256', 'Sign, EC-HSM P-256 ES256'];

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // SIGTERM: the bench stops its stack before it exits.
    const timer = setTimeout(() => child.kill('SIGTERM'), SMOKE_LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-bench-smoke-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run bench -- --smoke', () => {
  it('runs the set-up, every row and every cost step, and every call succeeds', { timeout: SMOKE_LIMIT_MS + 30_000 }, async () => {
    const resultsFile = join(dir, 'smoke.json');
    const started = Date.now();
    const outcome = await runBench(['--smoke', '--results', resultsFile]);
    const elapsed = Date.now() - started;
    // The progress lines name the refused row, or where the run stopped.
    const progress = outcome.stderr.split('\n').slice(-25).join('\n');
    // The bench's own refusal (bench/refusal.ts) names the row and what failed.
    expect(/row ".*" refused: .*/.exec(outcome.stderr)?.[0], progress).toBeUndefined();
    expect(elapsed < SMOKE_LIMIT_MS, `the smoke run was stopped after ${SMOKE_LIMIT_MS / 1000} s:\n${progress}`).toBe(true);
    expect({ code: outcome.code, signal: outcome.signal }, progress).toEqual({ code: 0, signal: null });

    const report = JSON.parse(await readFile(resultsFile, 'utf8')) as Report;
    expect(report.mode).toBe('smoke');

    // Every latency row, each with one call per round, all of them checked by the bench as they ran.
    expect(report.cases.map((row) => row.id)).toEqual(LATENCY_ROWS);
    for (const row of report.cases) {
      expect(row.summary.n, row.label).toBe(report.rounds);
      if (row.baseline) expect(Number.isFinite(row.ratio), `${row.label} has a ratio`).toBe(true);
    }
    // The in-process reads and signs made their DynamoDB requests here, where they are counted.
    for (const id of ['get-secret-handler', 'get-secret-strict-handler', 'sign-rsa-handler', 'sign-ec-handler', 'sign-ec-hsm-handler']) {
      const row = report.cases.find((r) => r.id === id)!;
      expect(
        Object.values(row.dynamodb ?? {}).reduce((sum, n) => sum + n, 0),
        `${row.label} DynamoDB requests per call`,
      ).toBeGreaterThan(0);
    }
    // The HSM sign's signature comes from the (local) KMS, counted from its log.
    expect(report.cases.find((r) => r.id === 'sign-ec-hsm-handler')!.kms?.Sign).toBeGreaterThanOrEqual(1);

    const { plan, rows: concurrent } = report.concurrency;
    expect(concurrent.map((row) => row.id)).toEqual(CONCURRENCY_ROWS);
    for (const row of concurrent) {
      expect({ row: row.label, errors: row.errors, calls: row.calls }).toEqual({
        row: row.label,
        errors: 0,
        calls: plan.rounds * plan.maxCallsPerRound,
      });
    }

    // Every step of the cost model ran: capacity and log lines per operation, the audit delivery, the ALB what-if.
    expect(report.cost.operations.map((row) => row.operation)).toEqual(COST_ROWS);
    for (const row of report.cost.operations) expect(row.perMillion.total, row.operation).toBeGreaterThan(0);
    expect(Object.keys(report.cost.capacityUnits)).toEqual(COST_ROWS);
    expect(report.cost.auditDelivery?.records).toBe(report.cost.auditDelivery?.batch);
    expect(report.cost.whatIf.alb.row.perMillion.total).toBeGreaterThan(0);
    expect(report.cost.gatewayExchange.status).toBe(200);

    // The printed report has every row too.
    expect(outcome.stdout).toContain('SMOKE RUN');
    for (const row of [...report.cases, ...concurrent]) expect(outcome.stdout).toContain(row.label);
    for (const operation of COST_ROWS) expect(outcome.stdout).toContain(operation);
  });
});

describe("the benchmark's stack (BENCH_STACK)", () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack({ dataDir: join(dir, 'stack'), ...BENCH_STACK });
    // This worker trusts the shared stack's CA from its start; this stack has its own.
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), await readFile(stack.info.caFile, 'utf8')]);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('reads no stream: a write yields no event, where the shared stack (reader on) puts one', async () => {
    const shared = localStack();
    const name = uniqueName('benchstream');
    const own = new SecretClient(stack.info.vaultUrl, adminSecretCredential(stack.info), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    await own.setSecret(name, 'value');
    await secretClient(adminSecretCredential(shared), shared).setSecret(name, 'value');

    const putsAbout = (file: string) => eventsLogLines(file).filter((line) => line.kind === 'put' && line.subject === name);
    await waitFor('the shared stack puts the event', () => putsAbout(shared.eventsLog).length > 0);
    // The reader polls every 200 ms when it runs; give it many times that to show it does not.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(putsAbout(stack.info.eventsLog)).toEqual([]);
  });
});
