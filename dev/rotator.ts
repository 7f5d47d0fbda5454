/**
 * `npm run rotator [-- --vault <vaultUrl> --port 8470]`: the reference PostgreSQL rotator as a
 * loopback webhook for the local stack (docs/rotation.md, "Locally"). It authenticates to the vault as
 * the local administrator of `.coffer/local.json` unless AZURE_CLIENT_ID and AZURE_CLIENT_SECRET name
 * another service principal (give that one Key Vault Secrets Officer on the secrets it rotates).
 * Run it with NODE_EXTRA_CA_CERTS=.coffer/tls/ca.pem so it trusts the local vault.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClientSecretCredential } from '@azure/identity';
import { EventBridgeClient } from '../lib/aws/api/eventbridge.ts';
import { rotationWith } from '../lib/runtime/rotation.ts';
import { REGION } from './local-environment.ts';
import { startRotatorWebhook } from './rotator-webhook.ts';
import type { LocalStackInfo } from './stack.ts';

const { values } = parseArgs({ options: { vault: { type: 'string' }, port: { type: 'string', default: '8470' } } });
const dataDir = resolve(process.env.COFFER_DATA_DIR ?? '.coffer');
const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalStackInfo;
const vaultUrl = values.vault ?? info.vaultUrl;
const credential = new ClientSecretCredential(
  info.tenantId,
  process.env.AZURE_CLIENT_ID ?? info.clientId,
  process.env.AZURE_CLIENT_SECRET ?? info.clientSecret,
  { authorityHost: info.authorityHost, disableInstanceDiscovery: true },
);
// The local vaults answer on localhost, which cannot end in the challenge's `.vault.localhost`.
// A failed rotation's event goes to the stack's bus, as in AWS (docs/rotation.md, "When a rotation fails").
const failureBus = {
  client: new EventBridgeClient({ region: REGION, endpoint: info.endpoints.eventbridge, credentials: () => info.awsCredentials }),
  busName: info.eventBus,
};
const webhook = await startRotatorWebhook(rotationWith(vaultUrl, credential, { challengeResourceCheck: false, failureBus }), Number(values.port));
process.stdout.write(`rotator webhook for ${vaultUrl}: ${webhook.url}\n`);
const stop = () => void webhook.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
