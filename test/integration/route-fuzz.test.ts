import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSecretCredential, adminToken, localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';
import { routes } from '../../lib/http/routes.ts';
import { describeCase, type FuzzCase, type FuzzTargets, fuzzCases } from '../support/fuzz.ts';

/**
 * A seeded, bounded fuzz of every row of the route table through the real local HTTPS gateway: bad
 * JSON, wrong types, oversize values and bodies, bad names, versions and management parameters, bad
 * api-versions, and odd headers on top. Every answer must be readable, a 4xx (never a 5xx) in Azure's
 * error shape, and the canary objects and scopes the requests address must be unchanged afterwards.
 *
 * The seed is new each run and printed with any failure; COFFER_FUZZ_SEED replays one, and
 * COFFER_FUZZ_CASES sets the cases per route (default 8). The run stops at its time budget.
 */
const info = localStack();
const seed = process.env.COFFER_FUZZ_SEED ? Number(process.env.COFFER_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const perRoute = Number(process.env.COFFER_FUZZ_CASES ?? 8);
const TIME_BUDGET_MS = 100_000;
const CONCURRENCY = 4;

let targets: FuzzTargets;
let managementToken: string;

let vaultUrl: string;

async function send(fuzz: FuzzCase) {
  const base = fuzz.route.plane === 'management' ? info.managementUrl : vaultUrl;
  const token = fuzz.route.plane === 'management' ? managementToken : await adminToken(info);
  return raw(fuzz.method, base + fuzz.path, { token, headers: fuzz.headers, body: fuzz.body });
}

/**
 * What the canaries and the fuzzed vault look like now, read the way a client reads them. The vault
 * is the fuzz's own, and subscription-wide lists are left out: the suite's other files write to the
 * shared stack at the same time, so only what no other test touches can be compared.
 */
async function snapshot(): Promise<unknown> {
  const mgmt = (path: string) => raw('GET', info.managementUrl + path, { token: managementToken });
  const data = (path: string) => raw('GET', vaultUrl + path);
  const subscription = `/subscriptions/${info.subscriptionId}`;
  const vaultId = `${subscription}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${targets.vaultName}`;
  const reads = await Promise.all([
    data(`/secrets/${targets.secret.name}?api-version=7.5`),
    data(`/secrets/${targets.secret.name}/versions?api-version=7.5`),
    data(`/keys/${targets.key.name}?api-version=7.5`),
    data(`/keys/${targets.key.name}/versions?api-version=7.5`),
    data('/secrets?api-version=7.5'),
    data('/keys?api-version=7.5'),
    data('/certificates?api-version=7.5'),
    data('/certificates/issuers?api-version=7.5'),
    data('/certificates/contacts?api-version=7.5'),
    data('/deletedsecrets?api-version=7.5'),
    data('/deletedkeys?api-version=7.5'),
    mgmt(`${subscription}/resourcegroups/${info.resourceGroup}?api-version=2021-04-01`),
    mgmt(`${vaultId}?api-version=2023-07-01`),
    mgmt(`${vaultId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()`),
    mgmt(`${vaultId}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2022-06-15`),
  ]);
  return reads.map((read) => ({ status: read.status, body: read.json }));
}

beforeAll(async () => {
  const credential = adminSecretCredential(info);
  managementToken = (await credential.getToken(info.managementScope))!.token;
  const vault = await createLocalVault('fuzz');
  vaultUrl = vault.vaultUri.replace(/\/+$/, '');
  const secret = await new SecretClient(vaultUrl, credential, { disableChallengeResourceVerification: true }).setSecret(
    uniqueName('fuzz-canary'),
    'canary value',
  );
  const key = await new KeyClient(vaultUrl, credential, {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  }).createRsaKey(uniqueName('fuzz-canary'));
  targets = {
    secret: { name: secret.name, version: secret.properties.version! },
    key: { name: key.name, version: key.properties.version! },
    subscriptionId: info.subscriptionId,
    resourceGroup: info.resourceGroup,
    vaultName: vault.name,
  };
});

describe('route fuzz', () => {
  it(`answers every malformed request to every route with a 4xx in Azure's error shape and changes nothing (seed ${seed})`, async () => {
    const before = await snapshot();
    const cases = fuzzCases(targets, seed, perRoute);
    const failures: string[] = [];
    const deadline = Date.now() + TIME_BUDGET_MS;
    let sent = 0;
    const worker = async () => {
      for (let fuzz = cases.shift(); fuzz && Date.now() < deadline; fuzz = cases.shift()) {
        sent++;
        let problem: string | undefined;
        try {
          const answer = await send(fuzz);
          const error = answer.json?.error;
          if (answer.status === 204 && fuzz.route.plane === 'management' && fuzz.method === 'DELETE') {
            // ARM answers a DELETE of what does not exist (which a malformed name never does) 204, with no body.
          } else if (answer.status < 400 || answer.status >= 500) problem = `answered ${answer.status}`;
          else if (typeof error?.code !== 'string' || typeof error?.message !== 'string' || error.code === '') {
            problem = `answered ${answer.status} not in Azure's error shape: ${answer.text.slice(0, 200)}`;
          }
        } catch (error) {
          problem = `no readable answer: ${(error as Error).message}`;
        }
        if (problem) failures.push(`${describeCase(fuzz, seed)} ${problem}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures, failures.join('\n')).toEqual([]);
    // Bounded in time, but not so bounded that it tried little: at least one case per route.
    expect(sent, `[COFFER_FUZZ_SEED=${seed}] only ${sent} cases ran in the time budget`).toBeGreaterThanOrEqual(routes.length);
    expect(await snapshot(), `[COFFER_FUZZ_SEED=${seed}] stored data changed`).toEqual(before);
  }, 180_000);
});

describe('request ids', () => {
  const subscriptionPath = () => `${info.managementUrl}/subscriptions/${info.subscriptionId}?api-version=2022-12-01`;

  it('answers a management request with a 10 KB x-ms-client-request-id readably, without echoing the over-long id', async () => {
    const id = 'r'.repeat(10 * 1024);
    const answer = await raw('GET', subscriptionPath(), { token: managementToken, headers: { 'x-ms-client-request-id': id } });
    expect(answer.status).toBe(200);
    expect(answer.json.subscriptionId).toBe(info.subscriptionId);
    expect(answer.headers['x-ms-client-request-id']?.length).toBeUndefined();
    expect(answer.headers['x-ms-correlation-request-id']).toBe('');
  });

  it('answers a data-plane request with a 10 KB x-ms-client-request-id without echoing it', async () => {
    const answer = await raw('GET', `${vaultUrl}/secrets/${targets.secret.name}?api-version=7.5`, {
      headers: { 'x-ms-client-request-id': 'r'.repeat(10 * 1024) },
    });
    expect(answer.status).toBe(200);
    expect(answer.json.value).toBe('canary value');
    expect(answer.headers['x-ms-client-request-id']?.length).toBeUndefined();
  });

  it('still echoes a request id of ordinary length, on both planes', async () => {
    const id = `fuzz-${'i'.repeat(200)}`;
    const management = await raw('GET', subscriptionPath(), { token: managementToken, headers: { 'x-ms-client-request-id': id } });
    expect(management.headers['x-ms-client-request-id']).toBe(id);
    expect(management.headers['x-ms-correlation-request-id']).toBe(id);
    const data = await raw('GET', `${vaultUrl}/secrets/${targets.secret.name}?api-version=7.5`, { headers: { 'x-ms-client-request-id': id } });
    expect(data.headers['x-ms-client-request-id']).toBe(id);
  });
});
