import { ResourceManagementClient } from '@azure/arm-resources';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, rolelessCredential, uniqueName } from '../support/local.ts';

/**
 * Subscriptions and resource groups through the unmodified ARM clients, as a user points them at the
 * local management plane: `SubscriptionClient` (api-version 2022-12-01) discovers the subscription,
 * `ResourceManagementClient` (2025-04-01) manages its resource groups.
 */
const info = localStack();
const options = { endpoint: info.managementUrl, credentials: { scopes: [info.managementScope] }, retryOptions: { maxRetries: 0 } };

function subscriptionClient(credential: TokenCredential = adminSecretCredential(info)): SubscriptionClient {
  return new SubscriptionClient(credential, options);
}

function resourceClient(subscriptionId = info.subscriptionId, credential: TokenCredential = adminSecretCredential(info)): ResourceManagementClient {
  return new ResourceManagementClient(credential, subscriptionId, options);
}

async function failure(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) found.push(item);
  return found;
}

describe('subscriptions', () => {
  it("lists the local subscription for the tenant's administrator, and gets it", async () => {
    const subscriptions = await all(subscriptionClient().subscriptions.list());
    const local = subscriptions.find((s) => s.subscriptionId === info.subscriptionId);
    expect(local).toMatchObject({
      id: `/subscriptions/${info.subscriptionId}`,
      subscriptionId: info.subscriptionId,
      tenantId: info.tenantId,
      state: 'Enabled',
      authorizationSource: 'RoleBased',
    });
    expect(subscriptions.every((s) => s.tenantId === info.tenantId)).toBe(true);
    const got = await subscriptionClient().subscriptions.get(info.subscriptionId);
    expect(got).toEqual(local);
    expect(got.subscriptionPolicies?.spendingLimit).toBe('Off');
  });

  it('lists no subscription for a principal that holds no role, rather than refusing it', async () => {
    expect(await all(subscriptionClient(rolelessCredential(info)).subscriptions.list())).toEqual([]);
  });

  it('answers 404 SubscriptionNotFound for a subscription the deployment does not have', async () => {
    const error = await failure(subscriptionClient().subscriptions.get('0b1c2d3e-0000-4000-8000-000000000000'));
    expect([error.statusCode, error.code]).toEqual([404, 'SubscriptionNotFound']);
  });
});

describe('resource groups', () => {
  it('creates (201), updates (200), gets in any case, lists and deletes a group, keeping its first spelling', async () => {
    const client = resourceClient();
    const name = uniqueName('Team');
    const statuses: number[] = [];
    const onResponse = (response: { status: number }) => void statuses.push(response.status);

    const created = await client.resourceGroups.createOrUpdate(name, { location: 'West Europe', tags: { env: 'dev' } }, { onResponse });
    expect(created).toMatchObject({
      id: `/subscriptions/${info.subscriptionId}/resourceGroups/${name}`,
      name,
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      tags: { env: 'dev' },
      properties: { provisioningState: 'Succeeded' },
    });
    const updated = await client.resourceGroups.createOrUpdate(name.toUpperCase(), { location: 'westeurope', tags: { env: 'prod' } }, { onResponse });
    expect(statuses).toEqual([201, 200]);
    expect(updated).toMatchObject({ name, tags: { env: 'prod' } });

    expect(await client.resourceGroups.get(name.toLowerCase())).toMatchObject({ name, location: 'westeurope', tags: { env: 'prod' } });
    const listed = await all(client.resourceGroups.list());
    expect(listed.map((g) => g.name)).toContain(name);
    expect(listed.map((g) => g.name)).toContain(info.resourceGroup);

    await client.resourceGroups.delete(name);
    const gone = await failure(client.resourceGroups.get(name));
    expect([gone.statusCode, gone.code, gone.message]).toEqual([404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`]);
    expect((await all(client.resourceGroups.list())).map((g) => g.name)).not.toContain(name);
  });

  it('refuses a group without a location, or with a bad name, with a 400 that creates nothing', async () => {
    const client = resourceClient();
    const name = uniqueName('nolocation');
    const missing = await failure(client.resourceGroups.createOrUpdate(name, { tags: {} } as unknown as { location: string }));
    expect([missing.statusCode, missing.code]).toEqual([400, 'LocationRequired']);
    expect((await failure(client.resourceGroups.get(name))).statusCode).toBe(404);

    const badName = await failure(client.resourceGroups.createOrUpdate('no!good', { location: 'eastus' }));
    expect(badName.statusCode).toBe(400);
    expect(badName.message).toContain('Resource group names only allow');
    const trailingPeriod = await failure(client.resourceGroups.createOrUpdate('ends.', { location: 'eastus' }));
    expect(trailingPeriod.statusCode).toBe(400);
  });

  it('answers 404 SubscriptionNotFound for a group in a subscription the deployment does not have', async () => {
    const error = await failure(resourceClient('0b1c2d3e-0000-4000-8000-000000000000').resourceGroups.get(info.resourceGroup));
    expect([error.statusCode, error.code]).toEqual([404, 'SubscriptionNotFound']);
  });

  it('refuses a principal without a role in the subscription', async () => {
    const error = await failure(
      resourceClient(info.subscriptionId, rolelessCredential(info)).resourceGroups.createOrUpdate(uniqueName('x'), { location: 'eastus' }),
    );
    expect([error.statusCode, error.code]).toEqual([403, 'AuthorizationFailed']);
  });
});
