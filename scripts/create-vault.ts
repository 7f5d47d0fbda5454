/**
 * Creates a vault in a deployed Coffer stack (control plane; the data-plane API cannot create vaults):
 *
 *   npx tsx scripts/create-vault.ts --stage prod --region eu-west-1 --name payments --tenant <tenant id>
 *       [--admin <object id> ...] [--sku premium|standard] [--retention-days 90] [--purge-protection] [--strict-audit]
 *
 * The vault gets its own KMS key, tagged so that only this deployment's functions may use it, and
 * grants Key Vault Administrator to the tenant's administrators: those listed for the tenant in the
 * SSM parameter /coffer/<stage>/tenant-administrators plus any --admin. With --strict-audit, every
 * request's audit record is written to the audit table before its response, instead of delivered from
 * the functions' log streams a moment later (docs/adr/0009-audit-through-the-log-stream.md); it is
 * fixed at creation. Runs with the AWS SDK's default credential chain (AWS_PROFILE, SSO,
 * environment...), which the SDK's SSM client resolves and the functions' own KMS and DynamoDB
 * clients sign with; docs/deploy.md lists the permissions it needs.
 */
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { roleIds } from '../lib/access/rbac.ts';
import { DynamoDBDocumentClient } from '../lib/aws/api/dynamodb.ts';
import { KMSClient } from '../lib/aws/api/kms.ts';
import { KmsKeyProtection } from '../lib/aws/kms.ts';
import { DynamoVaultStore } from '../lib/aws/dynamo-vaults.ts';
import { createVault, type VaultKeys } from '../lib/vaults/create.ts';

/** serverless.yml's `service`: the stack is `<service>-<stage>`, the tables `<service>-<stage>-*`. */
const SERVICE = 'coffer';

const tenantAdministratorsSchema = z.record(z.string(), z.array(z.string().min(1)));
const trustedIssuersSchema = z.array(z.object({ tenantId: z.string() }));

async function parameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      admin: { type: 'string', multiple: true, default: [] },
      sku: { type: 'string', default: 'premium' },
      'retention-days': { type: 'string', default: '90' },
      'purge-protection': { type: 'boolean', default: false },
      'strict-audit': { type: 'boolean', default: false },
    },
  });
  const { stage, region, name, tenant } = values;
  if (!stage || !region || !name || !tenant)
    throw new Error('usage: create-vault --stage <stage> --region <region> --name <vault> --tenant <tenant id> [--admin <object id>]...');
  if (values.sku !== 'premium' && values.sku !== 'standard') throw new Error('--sku is premium or standard');
  const deployment = `${SERVICE}-${stage}`;
  const prefix = `/${SERVICE}/${stage}`;

  const ssm = new SSMClient({ region });
  const credentials = () => ssm.config.credentials();
  const kms = new KMSClient({ region, credentials });
  const dynamo = new DynamoDBDocumentClient({ region, credentials });
  try {
    // A vault for a tenant the deployment does not trust could never be used: no token would verify.
    const issuers = trustedIssuersSchema.parse(JSON.parse((await parameter(ssm, `${prefix}/trusted-issuers`)) ?? '[]'));
    if (!issuers.some((issuer) => issuer.tenantId === tenant)) {
      throw new Error(`tenant ${tenant} is not in ${prefix}/trusted-issuers: add its issuer there and deploy first`);
    }
    const listed = tenantAdministratorsSchema.parse(JSON.parse((await parameter(ssm, `${prefix}/tenant-administrators`)) ?? '{}'));
    const administrators = [...new Set([...(listed[tenant] ?? []), ...values.admin])];
    if (administrators.length === 0) {
      throw new Error(`nobody would administer the vault: list the tenant's administrators in ${prefix}/tenant-administrators or pass --admin`);
    }
    const domain = await parameter(ssm, `${prefix}/vault-domain`);

    const protection = new KmsKeyProtection(kms);
    // The function roles may only use keys tagged for their own deployment (infra/serverless-config.ts).
    const keys: VaultKeys = {
      generateDataKey: (keyId, context) => protection.generateDataKey(keyId, context),
      decryptDataKey: (ciphertext, context) => protection.decryptDataKey(ciphertext, context),
      createVaultKey: (vaultName, tags) => protection.createVaultKey(vaultName, { ...tags, 'coffer:deployment': deployment }),
    };
    const store = new DynamoVaultStore(dynamo, `${deployment}-objects`);
    // Checked before the KMS key exists, so a taken name leaves no orphaned key behind.
    if (await store.getVault(name.toLowerCase())) throw new Error(`vault ${name} already exists in ${deployment}`);
    const vault = await createVault(store, keys, {
      name,
      tenantId: tenant,
      sku: values.sku,
      softDeleteRetentionDays: Number(values['retention-days']),
      purgeProtection: values['purge-protection'],
      strictAudit: values['strict-audit'],
      grants: administrators.map((principalId) => ({ principalId, roleDefinitionId: roleIds.administrator })),
    });
    process.stdout.write(
      `${JSON.stringify(
        {
          vault: vault.name,
          url: domain ? `https://${vault.name}.${domain}` : undefined,
          tenantId: vault.tenantId,
          kmsKeyArn: vault.kmsKeyArn,
          strictAudit: vault.strictAudit,
          administrators,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    ssm.destroy();
    kms.destroy();
    dynamo.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`create-vault: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
