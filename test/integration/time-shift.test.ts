/**
 * The local time shift (`/_coffer/time`) end to end: the local gateway (dev/gateway.ts) run in this
 * process with the handlers, on the running stack's DynamoDB Local, KMS and identity provider, with
 * the offsets file the stack names (COFFER_CLOCK_OFFSETS_FILE), driven by the official Azure SDK. Two
 * fresh vaults: `localhost` names the shifted one, `127.0.0.1` the one whose clock stays.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../dev/gateway.ts';
import { clockOffsetsFileIn } from '../../dev/local-environment.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { loggedAuditRecords } from '../support/audit.ts';
import { adminSecretCredential, localStack, raw, unprivilegedCredential, uniqueName } from '../support/local.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

const info = localStack();
const savedEnv = { ...process.env };
const DAY = 86_400;

let dataDir: string;
let gateway: Gateway | undefined;
let shifted: string;
let control: string;
/** What the scheduler hook saw at each run: the shifted vault's offset, read from the file the advance wrote. */
const schedulerRuns: number[] = [];
let schedulerDelayMs = 0;
let adminManagementToken: string;

/** `scheduler: 'local'` runs the local stack's own scheduler (dev/scheduler-timer.ts), the gateway's default. */
async function start(scheduler: 'recording' | 'local' = 'recording'): Promise<Gateway> {
  resetConfig();
  resetServices();
  const tlsDir = join(process.env.COFFER_TEST_DATA_DIR!, 'tls');
  return startGateway({
    tls: { certPem: await readFile(join(tlsDir, 'server.pem'), 'utf8'), keyPem: await readFile(join(tlsDir, 'server-key.pem'), 'utf8') },
    port: 0,
    managementPort: 0,
    ...(scheduler === 'recording'
      ? {
          runScheduledWork: async () => {
            await new Promise((resolve) => setTimeout(resolve, schedulerDelayMs));
            const document = JSON.parse(await readFile(clockOffsetsFileIn(dataDir), 'utf8')) as { offsets: Record<string, number> };
            schedulerRuns.push(document.offsets[shifted] ?? 0);
          },
        }
      : {}),
  });
}

const url = (path = '/_coffer/time', host = 'localhost') => `https://${host}:${gateway!.port}${path}`;
const timeShift = (method: 'GET' | 'POST', body?: unknown, token: string | null = adminManagementToken) =>
  raw(method, url(), { token, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : (body as object) }) });

function secretClient(host: string): SecretClient {
  return new SecretClient(`https://${host}:${gateway!.port}`, adminSecretCredential(info), clientOptions);
}

const clientOptions = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
/** The audit record a request to this process's gateway left (its handlers audit to the in-process log). */
async function auditRecordOf(answer: { headers: Record<string, string | string[] | undefined> }) {
  const requestId = String(answer.headers['x-ms-request-id']);
  return loggedAuditRecords(await readFile(info.inProcessAuditLog, 'utf8'), requestId)[0];
}

const realNow = () => Math.floor(Date.now() / 1000);
const secondsOf = (date: Date | undefined) => Math.floor(date!.getTime() / 1000);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-time-shift-'));
  [shifted, control] = (await Promise.all([createLocalVault('shifted'), createLocalVault('steady')])).map((vault) => vault.name) as [string, string];
  Object.assign(process.env, functionEnvironment(info), {
    COFFER_CLOCK_OFFSETS_FILE: clockOffsetsFileIn(dataDir),
    COFFER_HOST_ALIASES: JSON.stringify({ localhost: shifted, '127.0.0.1': control }),
  });
  adminManagementToken = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
  gateway = await start();
});

afterAll(async () => {
  await gateway?.close();
  process.env = savedEnv;
  resetConfig();
  resetServices();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('POST /_coffer/time', () => {
  it('moves one vault’s clock: a secret set there is dated that far ahead, one set in another vault is not', async () => {
    const advanced = await timeShift('POST', { vault: shifted, advanceSeconds: 10 * DAY });
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ vault: shifted, offsetSeconds: 10 * DAY, scheduledWorkRan: true });
    expect(Math.abs(Date.parse(advanced.json.time) / 1000 - (realNow() + 10 * DAY))).toBeLessThanOrEqual(2);

    const name = uniqueName('dated');
    const there = await secretClient('localhost').setSecret(name, 'v');
    const here = await secretClient('127.0.0.1').setSecret(name, 'v');
    expect(there.properties.vaultUrl).toContain('localhost');
    expect(Math.abs(secondsOf(there.properties.createdOn) - (realNow() + 10 * DAY))).toBeLessThanOrEqual(2);
    expect(Math.abs(secondsOf(here.properties.createdOn) - realNow())).toBeLessThanOrEqual(2);
    // The token the SDK holds was judged by real time: it is still good in the shifted vault.
    expect((await secretClient('localhost').getSecret(name)).value).toBe('v');
  });

  it('audits each advance in the vault’s records with its caller, and each refusal about no vault', async () => {
    const advanced = await timeShift('POST', { vault: shifted, advanceSeconds: 1 });
    expect(await auditRecordOf(advanced)).toMatchObject({
      vault: shifted,
      operationName: 'TimeShiftAdvance',
      resultType: 'Success',
      httpStatusCode: 200,
      identity: { oid: info.objectId, tid: info.tenantId },
      requestUri: expect.stringMatching(/\/_coffer\/time$/),
    });
    const otherToken = (await unprivilegedCredential(info).getToken(info.managementScope))!.token;
    const refused = await timeShift('POST', { vault: shifted, advanceSeconds: 1 }, otherToken);
    expect(await auditRecordOf(refused)).toMatchObject({
      vault: '_unresolved',
      operationName: 'TimeShiftAdvance',
      resultType: 'Failure',
      resultSignature: 'AuthorizationFailed',
      httpStatusCode: 403,
      identity: { oid: info.unprivileged.objectId },
    });
    expect(await auditRecordOf(await timeShift('GET', undefined, null))).toMatchObject({ operationName: 'TimeShiftList', httpStatusCode: 401 });
  });

  it('is cumulative, and runs the scheduled work after moving the clock, answering when it is done', async () => {
    const before = (await timeShift('GET')).json.value.find((entry: { vault: string }) => entry.vault === shifted).offsetSeconds as number;
    schedulerRuns.length = 0;
    schedulerDelayMs = 400;
    const started = Date.now();
    const advanced = await timeShift('POST', { vault: shifted.toUpperCase(), advanceSeconds: 60 });
    schedulerDelayMs = 0;
    expect(advanced.status).toBe(200);
    expect(advanced.json.offsetSeconds).toBe(before + 60);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(schedulerRuns).toEqual([before + 60]);
  });

  it('lets a key expire in the shifted vault’s time (KeyExpired), while the same key elsewhere still works; an expired secret is still read, as in Azure', async () => {
    const name = uniqueName('expiring');
    const expiresOn = new Date((realNow() + 11 * DAY) * 1000);
    const keys = {
      shifted: new KeyClient(`https://localhost:${gateway!.port}`, adminSecretCredential(info), clientOptions),
      control: new KeyClient(`https://127.0.0.1:${gateway!.port}`, adminSecretCredential(info), clientOptions),
    };
    const made = await keys.shifted.createRsaKey(name, { expiresOn });
    const other = await keys.control.createRsaKey(name, { expiresOn });
    const cryptoOf = (key: typeof made) => new CryptographyClient(key.id!, adminSecretCredential(info), clientOptions);
    // Signing needs the private key, so the service does it (the SDK encrypts with a public key itself).
    const digest = createHash('sha256').update('time moves').digest();
    await expect(cryptoOf(made).sign('RS256', digest)).resolves.toMatchObject({ keyID: made.id });
    const secret = await secretClient('localhost').setSecret(name, 'soon stale', { expiresOn });

    expect((await timeShift('POST', { vault: shifted, advanceSeconds: DAY })).status).toBe(200);
    const refused = await cryptoOf(made)
      .sign('RS256', digest)
      .then(
        () => undefined,
        (error: { statusCode?: number; code?: string; message?: string }) => error,
      );
    expect(refused).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect(refused!.message).toContain('expired');
    await expect(cryptoOf(other).sign('RS256', digest)).resolves.toMatchObject({ keyID: other.id });
    const read = await secretClient('localhost').getSecret(name);
    expect(read.value).toBe('soon stale');
    expect(read.properties.expiresOn?.getTime()).toBe(secret.properties.expiresOn?.getTime());
  });

  it('moves a deleted vault’s clock too, towards its purge', async () => {
    const doomed = await createLocalVault('doomed');
    await managementClients(info).vaults.vaults.delete(info.resourceGroup, doomed.name);
    const advanced = await timeShift('POST', { vault: doomed.name, advanceSeconds: 90 * DAY });
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ vault: doomed.name, offsetSeconds: 90 * DAY });
  });

  it('moves every vault with *', async () => {
    const listed = async () => (await timeShift('GET')).json as { value: { vault: string; offsetSeconds: number }[] };
    const before = await listed();
    const shiftedBefore = before.value.find((entry) => entry.vault === shifted)!.offsetSeconds;
    const advanced = await timeShift('POST', { vault: '*', advanceSeconds: 3_600 });
    expect(advanced.json).toMatchObject({ vault: '*', offsetSeconds: (before.value[0]!.offsetSeconds ?? 0) + 3_600 });
    const after = await listed();
    expect(after.value.find((entry) => entry.vault === shifted)!.offsetSeconds).toBe(shiftedBefore + 3_600);
    const here = await secretClient('127.0.0.1').setSecret(uniqueName('everywhere'), 'v');
    expect(Math.abs(secondsOf(here.properties.createdOn) - (realNow() + 3_600))).toBeLessThanOrEqual(2);
  });
});

describe('GET /_coffer/time', () => {
  it('lists * and each vault with an offset, with its whole offset and current time', async () => {
    const listing = await timeShift('GET');
    expect(listing.status).toBe(200);
    const { value, realTime } = listing.json as { realTime: string; value: { vault: string; offsetSeconds: number; time: string }[] };
    expect(Math.abs(Date.parse(realTime) / 1000 - realNow())).toBeLessThanOrEqual(2);
    expect(value[0]!.vault).toBe('*');
    const entry = value.find((e) => e.vault === shifted)!;
    const file = JSON.parse(await readFile(clockOffsetsFileIn(dataDir), 'utf8')) as { offsets: Record<string, number> };
    expect(entry.offsetSeconds).toBe(file.offsets[shifted]! + (file.offsets['*'] ?? 0));
    expect(Date.parse(entry.time) - Date.parse(realTime)).toBe(entry.offsetSeconds * 1000);
    expect(value.some((e) => e.vault === control)).toBe(false);
    // Owner-only: the file is the stack's, like the rest of its data directory.
    expect((await stat(clockOffsetsFileIn(dataDir))).mode & 0o077).toBe(0);
  });
});

describe('who may shift time', () => {
  it('refuses a request without a token (401 with the challenge), another principal (403) and a data-plane token (401)', async () => {
    const anonymous = await timeShift('POST', { vault: shifted, advanceSeconds: 1 }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(anonymous.json.error.code).toBe('Unauthorized');

    const otherToken = (await unprivilegedCredential(info).getToken(info.managementScope))!.token;
    const other = await timeShift('POST', { vault: shifted, advanceSeconds: 1 }, otherToken);
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('AuthorizationFailed');
    expect((await timeShift('GET', undefined, otherToken)).status).toBe(403);

    const dataToken = (await adminSecretCredential(info).getToken(`${info.audience}/.default`))!.token;
    expect((await timeShift('GET', undefined, dataToken)).status).toBe(401);

    const offsets = JSON.parse(await readFile(clockOffsetsFileIn(dataDir), 'utf8')) as { offsets: Record<string, number> };
    const listed = (await timeShift('GET')).json.value.find((e: { vault: string }) => e.vault === shifted);
    expect(listed.offsetSeconds).toBe(offsets.offsets[shifted]! + (offsets.offsets['*'] ?? 0));
  });
});

describe('bad requests', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{"vault":', /not valid JSON/],
    ['an array', [], /must be a JSON object/],
    ['no vault', { advanceSeconds: 1 }, /'vault' is required/],
    ['a vault that is not a name', { vault: 'no_such!', advanceSeconds: 1 }, /not a vault name/],
    ['no advanceSeconds', { vault: '*' }, /'advanceSeconds' is required/],
    ['advanceSeconds as text', { vault: '*', advanceSeconds: '60' }, /whole number/],
    ['fractional seconds', { vault: '*', advanceSeconds: 1.5 }, /whole number/],
    ['zero', { vault: '*', advanceSeconds: 0 }, /must be positive/],
    ['backwards', { vault: '*', advanceSeconds: -60 }, /must be positive/],
    ['over ten years', { vault: '*', advanceSeconds: 10 * 365 * DAY + 1 }, /at most 315360000/],
    ['another property', { vault: '*', advanceSeconds: 1, rewind: true }, /'rewind' is not accepted/],
  ];
  it.each(cases)('answers 400 BadParameter for %s and moves nothing', async (_what, body, message) => {
    const before = await readFile(clockOffsetsFileIn(dataDir), 'utf8');
    const answer = await timeShift('POST', body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('BadParameter');
    expect(answer.json.error.message).toMatch(message);
    expect(await readFile(clockOffsetsFileIn(dataDir), 'utf8')).toBe(before);
  });

  it('answers 404 VaultNotFound for a vault the stack does not have, 405 for another method and 404 for another /_coffer path', async () => {
    const missing = await timeShift('POST', { vault: 'novaulthere', advanceSeconds: 1 });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('VaultNotFound');
    const put = await raw('PUT', url(), { token: adminManagementToken, body: { vault: '*', advanceSeconds: 1 } });
    expect(put.status).toBe(405);
    const elsewhere = await raw('GET', url('/_coffer/clock'), { token: adminManagementToken });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json.error.code).toBe('NotFound');
  });
});

describe('a restart', () => {
  it('keeps every offset: the restarted gateway lists them and its handlers date objects by them', async () => {
    const before = (await timeShift('GET')).json.value as { vault: string; offsetSeconds: number }[];
    await gateway!.close();
    gateway = await start();
    const after = (await timeShift('GET')).json.value as { vault: string; offsetSeconds: number }[];
    expect(after.map(({ vault, offsetSeconds }) => ({ vault, offsetSeconds }))).toEqual(
      before.map(({ vault, offsetSeconds }) => ({ vault, offsetSeconds })),
    );
    const offset = after.find((entry) => entry.vault === shifted)!.offsetSeconds;
    expect(offset).toBeGreaterThan(10 * DAY);
    const set = await secretClient('localhost').setSecret(uniqueName('restarted'), 'v');
    expect(Math.abs(secondsOf(set.properties.createdOn) - (realNow() + offset))).toBeLessThanOrEqual(2);
  });

  it('runs the local scheduler by default, and answers once its run is over', async () => {
    await gateway!.close();
    gateway = await start('local');
    const advanced = await timeShift('POST', { vault: shifted, advanceSeconds: 1 });
    expect(advanced.status, advanced.text).toBe(200);
    expect(advanced.json.scheduledWorkRan).toBe(true);
  });

  it('has no /_coffer routes where the configuration names no offsets file, as in a deployment', async () => {
    await gateway!.close();
    process.env.COFFER_CLOCK_OFFSETS_FILE = '';
    gateway = await start();
    const answer = await timeShift('GET');
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('NotFound');
    const set = await secretClient('localhost').setSecret(uniqueName('realtime'), 'v');
    expect(Math.abs(secondsOf(set.properties.createdOn) - realNow())).toBeLessThanOrEqual(2);
  });
});
