import { randomUUID } from 'node:crypto';
import { KEY_VAULT_API_VERSIONS, MANAGEMENT_API_VERSIONS } from '../../lib/http/api-version.ts';
import { type Route, routes, SCOPE_SEGMENT } from '../../lib/http/routes.ts';

/**
 * Seeded generation of malformed requests for every row of the route table (lib/http/routes.ts), for
 * test/integration/route-fuzz.test.ts. Everything a case holds comes from the seed, so a failure
 * printed with its seed is the same failure when run again with COFFER_FUZZ_SEED set to it.
 */

/** mulberry32: a small, fast, well-distributed 32-bit generator; enough for choosing cases, and reproducible. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}

export type Random = ReturnType<typeof seededRandom>;

/** What the fuzzed requests address: real objects (canaries that must not change) and the local stack's scopes. */
export interface FuzzTargets {
  secret: { name: string; version: string };
  key: { name: string; version: string };
  subscriptionId: string;
  resourceGroup: string;
  vaultName: string;
}

export interface FuzzCase {
  route: Route;
  /** Which fault the case carries (it always carries one the route checks before any change). */
  fault: string;
  method: string;
  /** The path and query, to be resolved against the route's plane's URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const KB = 1024;

/** Names no object, vault or group can have. */
const BAD_OBJECT_NAMES = ['bad_name', 'a'.repeat(200), 'dot.name', 'sp%20ace', '%00', '%C3%BCml%C3%A4ut', 'semi;colon', 'x'.repeat(3 * KB)];
const BAD_VERSIONS = [
  'zz',
  'g'.repeat(32),
  'a'.repeat(31),
  'a'.repeat(33),
  'f'.repeat(2 * KB),
  'LATEST',
  '%00',
  '00000000-0000-0000-0000-000000000000',
];
const BAD_MANAGEMENT_VALUES: Record<string, readonly string[]> = {
  subscriptionId: ['not-a-guid', 'x'.repeat(300), '%00', '00000000-0000-0000-0000-00000000000g'],
  resourceGroupName: ['bad group!', 'ends.', 'r'.repeat(100), '%00', 'sp%20ace'],
  vaultName: ['v'.repeat(200), 'bad_vault!', '%00'],
  roleAssignmentName: ['not-a-guid', 'r'.repeat(300)],
  roleDefinitionId: ['not-a-guid', 'd'.repeat(300)],
  operationId: ['o'.repeat(200)],
  location: ['l'.repeat(100)],
};
const BAD_API_VERSIONS = [undefined, '', '7.x', '99.0', '2000-01-01', 'v'.repeat(600), '%00', '7.4%0d%0ax-injected:1', '1.0-preview'];
const BAD_JSON = ['{', '{"value": ', '[', 'nul', '{"a":1}}', '\u0000', '{"value":"x",}', "{'value':'x'}", '{"value":"x"'.repeat(50)];
/** Every field name an operation body has (secrets, keys, certificates, issuers, contacts, vaults, groups, roles). */
const BODY_FIELDS = [
  'value',
  'contentType',
  'attributes',
  'tags',
  'kty',
  'key_size',
  'key_ops',
  'crv',
  'public_exponent',
  'key',
  'hsm',
  'alg',
  'digest',
  'iv',
  'tag',
  'aad',
  'count',
  'lifetimeActions',
  'policy',
  'pwd',
  'x5c',
  'contacts',
  'provider',
  'credentials',
  'org_details',
  'cancellation_requested',
  'key_props',
  'secret_props',
  'x509_props',
  'issuer',
  'location',
  'properties',
  'name',
  'type',
  'sku',
  'release_policy',
  'exportable',
];
// None a string: every body has a required field, and any string passes for one (a name, a value, a type).
const WRONG_TYPED = [-1, true, [1, 'two'], { nested: { deeper: [] } }, 1e308, 0.5];
const TOP_LEVEL_NOT_OBJECTS = ['[]', '42', '"text"', 'null', 'true', '[{"value":"x"}]'];

/** Headers a client might send that are odd but not themselves a fault; each case may carry some. */
const ODD_HEADERS: readonly Record<string, string>[] = [
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/json; charset=latin1' },
  { 'content-type': 'multipart/form-data; boundary=x' },
  { accept: 'application/xml;q=garbage' },
  { 'x-ms-client-request-id': 'r'.repeat(10 * KB) },
  { 'x-ms-correlation-request-id': 'c'.repeat(10 * KB) },
  { 'x-ms-client-request-id': '\t odd  spaces\t' },
  { 'x-ms-return-client-request-id': 'maybe' },
  { 'x-forwarded-host': 'evil.example' },
  { 'x-http-method-override': 'DELETE' },
  { 'accept-encoding': 'gzip;q=abc, br;q=-1' },
  { 'user-agent': 'u'.repeat(4 * KB) },
];

function wrongTypedBody(random: Random, oversize: boolean): string {
  const body: Record<string, unknown> = {};
  for (const field of BODY_FIELDS) {
    if (!oversize) body[field] = random.pick(WRONG_TYPED);
    // Oversize: strings where strings go, far past any limit, and more tags than Azure allows, each too long.
    else
      body[field] = random.chance(0.5)
        ? 'x'.repeat(30 * KB)
        : Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`t${i}${'k'.repeat(600)}`, 'v'.repeat(300)]));
  }
  return JSON.stringify(body);
}

function bodyFault(random: Random): { fault: string; body: string } {
  switch (random.int(5)) {
    case 0:
      return { fault: 'bad JSON', body: random.pick(BAD_JSON) };
    case 1:
      return { fault: 'not an object', body: random.pick(TOP_LEVEL_NOT_OBJECTS) };
    case 2:
      return { fault: 'oversize values', body: wrongTypedBody(random, true) };
    case 3:
      // Just over the 1 MiB body limit: a 413, not a reset or a 500.
      return { fault: 'oversize body', body: JSON.stringify({ value: 'x'.repeat(1024 * KB + 16) }) };
    default:
      return { fault: 'wrong types', body: wrongTypedBody(random, false) };
  }
}

const takesBody = (route: Route) => route.method === 'PUT' || route.method === 'PATCH' || route.method === 'POST';

/** The route's parameters filled with the real targets (or, for body faults, names nothing has yet). */
function goodParameters(route: Route, targets: FuzzTargets, fresh: boolean): Record<string, string> {
  const collection = typeof route.scope === 'object' ? route.scope.collection : undefined;
  const object = collection === 'secrets' ? targets.secret : collection === 'keys' ? targets.key : undefined;
  const missing = `fuzz-missing-${randomUUID().slice(0, 8)}`;
  return {
    name: fresh || !object ? missing : object.name,
    version: fresh || !object ? '' : object.version,
    issuerName: missing,
    subscriptionId: targets.subscriptionId,
    resourceGroupName: targets.resourceGroup,
    vaultName: fresh ? `fuzzmissing${randomUUID().slice(0, 8)}` : targets.vaultName,
    location: 'eastus',
    operationKind: 'add',
    operationId: randomUUID(),
    roleAssignmentName: randomUUID(),
    roleDefinitionId: randomUUID(),
  };
}

function parameterNames(route: Route): string[] {
  return [...route.path.matchAll(/\{([^}*]+)\}/g)].map((m) => m[1]!);
}

function fillPath(route: Route, values: Record<string, string>, targets: FuzzTargets): string {
  const scope = `/subscriptions/${targets.subscriptionId}/resourceGroups/${targets.resourceGroup}`;
  return route.path.replace(`/${SCOPE_SEGMENT}`, scope).replace(/\{([^}*]+)\}/g, (_, name: string) => values[name] ?? '');
}

function goodApiVersion(route: Route): string {
  return route.plane === 'management' && route.provider ? MANAGEMENT_API_VERSIONS[route.provider].latest : KEY_VAULT_API_VERSIONS.latest;
}

/** One malformed request for the route: always one fault it checks before any change, sometimes odd headers as well. */
function fuzzCase(route: Route, targets: FuzzTargets, random: Random): FuzzCase {
  const params = parameterNames(route);
  const kinds = ['api-version', ...(params.length ? ['parameter'] : []), ...(takesBody(route) ? ['body', 'body'] : [])];
  const kind = random.pick(kinds);
  const values = goodParameters(route, targets, kind === 'body');
  let apiVersion: string | undefined = goodApiVersion(route);
  let body: string | undefined;
  let fault: string;
  if (kind === 'api-version') {
    apiVersion = random.pick(BAD_API_VERSIONS);
    fault = `api-version ${JSON.stringify(apiVersion?.slice(0, 40))}`;
  } else if (kind === 'parameter') {
    const name = random.pick(params);
    values[name] = badValue(name, random);
    fault = `${name} ${JSON.stringify(values[name]!.slice(0, 40))}`;
  } else {
    ({ fault, body } = bodyFault(random));
  }
  const query = apiVersion === undefined ? '' : `?api-version=${apiVersion}`;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  while (random.chance(0.4)) Object.assign(headers, random.pick(ODD_HEADERS));
  return { route, fault, method: route.method, path: fillPath(route, values, targets) + query, headers, body };
}

function badValue(parameter: string, random: Random): string {
  if (parameter === 'version') return random.pick(BAD_VERSIONS);
  if (parameter === 'name' || parameter === 'issuerName') return random.pick(BAD_OBJECT_NAMES);
  if (parameter === 'operationKind') return random.pick(['remove-all', 'k'.repeat(300), '%00']);
  return random.pick(BAD_MANAGEMENT_VALUES[parameter] ?? ['%00']);
}

/** The cases of one run: `perRoute` for every row of the table, in the seed's order. */
export function fuzzCases(targets: FuzzTargets, seed: number, perRoute: number): FuzzCase[] {
  const random = seededRandom(seed);
  const cases: FuzzCase[] = [];
  for (const route of routes as readonly Route[]) for (let i = 0; i < perRoute; i++) cases.push(fuzzCase(route, targets, random));
  // Shuffled, so that a bounded run that stops early has still covered the table rather than its first rows.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  return cases;
}

/** How a case is shown in a failure: enough to see it, short enough to read, and the seed to replay it. */
export function describeCase(fuzz: FuzzCase, seed: number): string {
  const headers = Object.entries(fuzz.headers).map(
    ([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 20)}… (${value.length} chars)` : value}`,
  );
  const body = fuzz.body === undefined ? '' : ` body ${fuzz.body.length > 80 ? `${fuzz.body.slice(0, 60)}… (${fuzz.body.length} chars)` : fuzz.body}`;
  const path = fuzz.path.length > 200 ? `${fuzz.path.slice(0, 200)}…` : fuzz.path;
  return `[COFFER_FUZZ_SEED=${seed}] ${fuzz.route.operation} (${fuzz.fault}): ${fuzz.method} ${path} {${headers.join('; ')}}${body}`;
}
