import { randomUUID } from 'node:crypto';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import type { PipelineRequest, SendRequest } from '@azure/core-rest-pipeline';
import { SecretClient } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, uniqueName, unprivilegedCredential } from '../support/local.ts';

/**
 * The README's walk-through, as a vault owner does it with official clients only: create a vault,
 * grant an application Key Vault Secrets User on one secret, and read the audit records that show the
 * application reading that secret and being refused another.
 */
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483';

interface AuditEvent {
  operationName: string;
  resultType: string;
  identity: { claim: { oid?: string } };
  properties: { id?: string; httpStatusCode: number; requestUri: string };
}

/** Every request's x-ms-client-request-id, as the clients send it: each must have its audit record. */
const sentRequests: { id: string; url: string }[] = [];
const recordRequests = {
  additionalPolicies: [
    {
      position: 'perRetry' as const,
      policy: {
        name: 'recordClientRequestIds',
        sendRequest: async (request: PipelineRequest, next: SendRequest) => {
          sentRequests.push({ id: request.headers.get('x-ms-client-request-id') ?? '', url: request.url });
          return next(request);
        },
      },
    },
  ],
};

describe('walk-through: a vault owner with official Azure clients', () => {
  const info = localStack();
  const owner = adminSecretCredential(info);
  const app = unprivilegedCredential(info);
  const management = new KeyVaultManagementClient(owner, info.subscriptionId, {
    endpoint: info.managementUrl,
    credentials: { scopes: [info.managementScope] },
    ...recordRequests,
  });
  const authorization = new AuthorizationManagementClient(owner, info.subscriptionId, {
    endpoint: info.managementUrl,
    credentialScopes: [info.managementScope],
    ...recordRequests,
  });
  const secrets = (vaultUri: string, credential = owner) =>
    new SecretClient(vaultUri, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 }, ...recordRequests });
  const roleDefinition = (guid: string) => `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

  it('creates a vault, grants an application one secret, and sees its read and its refusal in the audit records', async () => {
    const name = uniqueName('walk').replace(/-/g, '').slice(0, 24);
    const vault = await management.vaults.createOrUpdate(info.resourceGroup, name, {
      location: 'local',
      properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true },
    });
    expect(vault.name).toBe(name);
    const vaultUri = vault.properties.vaultUri!;

    // The owner manages the vault; reading and writing its secrets takes a data role.
    await authorization.roleAssignments.create(vault.id!, randomUUID(), {
      roleDefinitionId: roleDefinition(ADMINISTRATOR),
      principalId: info.objectId,
      principalType: 'ServicePrincipal',
    });
    const ownerSecrets = secrets(vaultUri);
    const granted = await ownerSecrets.setSecret('app-db', 'connection-string');
    await ownerSecrets.setSecret('other', 'not for the app');

    await authorization.roleAssignments.create(`${vault.id}/secrets/app-db`, randomUUID(), {
      roleDefinitionId: roleDefinition(SECRETS_USER),
      principalId: info.unprivileged.objectId,
      principalType: 'ServicePrincipal',
    });
    const appSecrets = secrets(vaultUri, app);
    expect((await appSecrets.getSecret('app-db')).value).toBe('connection-string');
    await expect(appSecrets.getSecret('other')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });

    // The records arrive through the audit delivery a moment later.
    const token = (await owner.getToken(info.managementScope))!.token;
    const query = new URLSearchParams({ 'api-version': '2026-02-01', principalId: info.unprivileged.objectId, operationName: 'SecretGet' });
    let events: AuditEvent[] = [];
    for (let attempt = 0; attempt < 60 && events.length < 2; attempt++) {
      const response = await fetch(`${info.managementUrl}${vault.id}/auditEvents?${query}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      events = ((await response.json()) as { value: AuditEvent[] }).value;
      if (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const byStatus = new Map(events.map((e) => [e.properties.httpStatusCode, e]));
    expect(byStatus.get(200)).toMatchObject({
      operationName: 'SecretGet',
      resultType: 'Success',
      identity: { claim: { oid: info.unprivileged.objectId } },
      properties: { id: granted.properties.id },
    });
    expect(byStatus.get(403)).toMatchObject({ operationName: 'SecretGet', resultType: 'Failure' });
    expect(byStatus.get(403)!.properties.requestUri).toContain('/secrets/other');
    // No record carries a value.
    expect(JSON.stringify(events)).not.toContain('connection-string');

    // Every request the clients sent about this vault, 401 challenges included, has its record.
    const mine = sentRequests.filter((r) => r.url.startsWith(vaultUri) || r.url.includes(`/vaults/${name}`));
    expect(mine.length).toBeGreaterThanOrEqual(8);
    const all = new URLSearchParams({ 'api-version': '2026-02-01', $top: '1000' });
    let missing: typeof mine = mine;
    for (let attempt = 0; attempt < 60 && missing.length > 0; attempt++) {
      const response = await fetch(`${info.managementUrl}${vault.id}/auditEvents?${all}`, { headers: { authorization: `Bearer ${token}` } });
      const recorded = new Set(((await response.json()) as { value: { correlationId?: string }[] }).value.map((e) => e.correlationId));
      missing = mine.filter((r) => !recorded.has(r.id));
      if (missing.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(missing).toEqual([]);
  });
});
