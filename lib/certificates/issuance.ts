import { CertificateBase, LIFETIME, pendingNotFound, raise } from './base.ts';
import { BadParameter, Conflict } from '../core/errors.ts';
import { printable } from '../core/names.ts';
import type { ManagedKeyMaterial } from '../keys/managed-keys.ts';
import { translateStoreError } from '../objects/errors.ts';
import { newVersionId } from '../objects/rules.ts';
import type { ObjectAttributes, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { buildPem, readPem } from './pem.ts';
import { buildPkcs12, Pkcs12Malformed, Pkcs12Unsupported, Pkcs12WrongPassword, readPkcs12 } from './pkcs12.ts';
import { derivedPolicy, keyChoice, lifetimeActionDue, PEM, PKCS12, resolvePolicy, SELF_ISSUER } from './policy.ts';
import type { CertificateContentType, CertificateOperationRecord, CertificatePolicy, CertificateRecord } from './records.ts';
import type { CreateCertificateInput, ImportCertificateInput, MergeCertificateInput } from './schemas.ts';
import {
  type CertificateSigner,
  buildCsr,
  describeCertificate,
  issueSelfSigned,
  keyMatchesCertificate,
  orderChain,
  spkiMatchesCertificate,
  type X509Request,
} from './x509.ts';

const PENDING_DETAILS =
  'Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.';

/**
 * Making certificate versions (reference §1.3): a self-signed certificate issued within its create,
 * a CSR for issuer Unknown and its merge, and imports of PFX and PEM. The only certificate service
 * that carries the X.509 and PKCS#12 library, so only these three functions bundle it.
 */
export class CertificateIssuance extends CertificateBase {
  async create(at: VaultAddress, name: string, input: CreateCertificateInput): Promise<CertificateOperationRecord> {
    this.certificates.assertName(name);
    const now = this.clock(at.vault.name);
    const stored = await this.storedPolicy(at, name);
    const policy = resolvePolicy(input.policy, at.vault, now, input.policy ? undefined : stored);
    await this.assertIssuerUsable(at, policy.issuer.name);
    await this.assertNamesWritable(at, name);
    const pending = await this.operations.get(at, name);
    if (pending?.record.status === 'inProgress') {
      throw new Conflict(`Certificate ${printable(name)} has a pending operation: merge, cancel or delete it before creating another version.`);
    }
    const version = newVersionId();
    const { material, fresh } = await this.keyFor(at, name, version, policy);
    const request = x509Request(policy);
    const signer = this.signerOf(material);
    const operation: CertificateOperationRecord = {
      name,
      issuer: policy.issuer,
      cancellationRequested: false,
      status: 'inProgress',
      requestId: newVersionId(),
      ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}),
    };
    try {
      if (policy.issuer.name === SELF_ISSUER) {
        const der = await issueSelfSigned(request, material.spki, signer, new Date(now * 1000));
        await this.writeVersion(at, name, version, material, [der], policy, input);
        const done: CertificateOperationRecord = { ...operation, status: 'completed', targetVersion: version };
        await this.operations.put(at, name, { record: done, parts: { version } });
        return done;
      }
      const csr = await buildCsr(request, material.spki, signer);
      await this.putPolicy(at, name, policy);
      const inProgress: CertificateOperationRecord = { ...operation, csr, statusDetails: PENDING_DETAILS };
      await this.operations.put(at, name, {
        record: inProgress,
        parts: {
          version,
          key: await this.keys.sealPending(at, name, version, material),
          freshKey: fresh,
          request: await this.operations.sealRequest(at, name, version, {
            attributes: input.attributes ?? null,
            tags: input.tags ?? null,
            preserveCertOrder: input.preserveCertOrder ?? null,
          }),
        },
      });
      return inProgress;
    } catch (error) {
      if (fresh) await this.keys.discard(material);
      throw error;
    } finally {
      this.keys.wipe(material);
    }
  }

  async import(at: VaultAddress, name: string, input: ImportCertificateInput): Promise<CertificateRecord> {
    this.certificates.assertName(name);
    const now = this.clock(at.vault.name);
    const contentType = importedContentType(input);
    const contents = contentType === PEM ? readPemValue(input.value) : await readPfxValue(input.value, input.pwd ?? undefined);
    if (!contents.privateKeyPkcs8) throw new BadParameter('The certificate to import has no private key: give a PFX or PEM that contains it.');
    if (contents.chain.length === 0) throw new BadParameter('The value to import contains no certificate.');
    const leaf = contents.chain[0]!;
    if (!keyMatchesCertificate(leaf, contents.privateKeyPkcs8)) {
      throw new BadParameter('The private key does not match the public key of the certificate being imported.');
    }
    const facts = describeCertificate(leaf);
    const hsm = (input.policy?.key_props?.kty ?? '').endsWith('-HSM');
    const policy = derivedPolicy(facts, input.policy, contentType, hsm, at.vault, now);
    await this.assertNamesWritable(at, name);
    const version = newVersionId();
    const material = await this.keys.import(at, name, version, contents.privateKeyPkcs8, hsm);
    Buffer.from(contents.privateKeyPkcs8.buffer, contents.privateKeyPkcs8.byteOffset, contents.privateKeyPkcs8.byteLength).fill(0);
    try {
      return await this.writeVersion(at, name, version, material, contents.chain, policy, input);
    } catch (error) {
      await this.keys.discard(material);
      throw error;
    } finally {
      this.keys.wipe(material);
    }
  }

  async merge(at: VaultAddress, name: string, input: MergeCertificateInput): Promise<CertificateRecord> {
    this.certificates.assertName(name);
    const pending = await this.operations.get(at, name);
    if (pending?.record.status !== 'inProgress' || !pending.parts.key) throw pendingNotFound(name);
    const chain = orderChain(input.x5c.map((entry, index) => decodeCertificate(entry, index)));
    const material = await this.keys.openPending(at, name, pending.parts.version, pending.parts.key);
    try {
      if (!spkiMatchesCertificate(chain[0]!, material.spki)) {
        throw new BadParameter("Public key from x509 certificate and key of this instance doesn't match.");
      }
      const policy = (await this.storedPolicy(at, name)) ?? raise(pendingNotFound(name));
      const request = await this.operations.openRequest(at, name, pending.parts);
      const record = await this.writeVersion(at, name, pending.parts.version, material, chain, policy, {
        attributes: input.attributes ?? request.attributes,
        tags: input.tags ?? request.tags,
        preserveCertOrder: request.preserveCertOrder,
      });
      await this.operations.put(at, name, {
        record: { ...pending.record, status: 'completed', targetVersion: pending.parts.version, statusDetails: undefined },
        parts: { version: pending.parts.version },
      });
      return record;
    } finally {
      this.keys.wipe(material);
    }
  }

  /**
   * Writes a version of the three objects in one transaction: the certificate (its DER sealed), the
   * managed key, and the managed secret (PKCS#12 base64 or PEM, with the private key when the policy
   * makes it exportable); then the policy and the lifetime action's due time.
   */
  private async writeVersion(
    at: VaultAddress,
    name: string,
    version: string,
    material: ManagedKeyMaterial,
    chain: Uint8Array[],
    policy: CertificatePolicy,
    input: { attributes?: { enabled?: boolean | null } | null; tags?: Record<string, string> | null; preserveCertOrder?: boolean | null },
  ): Promise<CertificateRecord> {
    const leaf = chain[0]!;
    const facts = describeCertificate(leaf);
    const now = this.clock(at.vault.name);
    const attributes: ObjectAttributes = {
      enabled: input.attributes?.enabled ?? policy.attributes.enabled,
      nbf: facts.notBefore,
      exp: facts.notAfter,
      created: now,
      updated: now,
    };
    const contentType = policy.secret_props.contentType;
    const exportable = policy.key_props.exportable && material.privatePkcs8 !== undefined;
    const contents = { chain, ...(exportable ? { privateKeyPkcs8: material.privatePkcs8 } : {}) };
    const secretValue = contentType === PEM ? buildPem(contents) : Buffer.from(await buildPkcs12(contents)).toString('base64');
    const place = { name, version };
    const tags = input.tags ?? undefined;
    const certificate: StoredVersion = {
      name,
      version,
      attributes,
      meta: await this.certificateContent.sealMeta(at.vault, place, tags ? { tags } : {}),
      secret: await this.certificateContent.sealSecret(at.vault, place, leaf),
      plain: { x5t: facts.x5t, contentType, ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}) },
    };
    const secret: StoredVersion = {
      name,
      version,
      attributes,
      meta: await this.secretContent.sealMeta(at.vault, place, { contentType }),
      secret: await this.secretContent.sealSecret(at.vault, place, Buffer.from(secretValue, 'utf8')),
      plain: { managed: true },
    };
    const key = await this.keys.storedVersion(at, name, version, material, attributes);
    const heads = await this.store
      .addLinkedVersions(at.vault.name, [
        { collection: 'certificates', version: certificate },
        { collection: 'keys', version: key },
        { collection: 'secrets', version: secret },
      ])
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, name);
      });
    await this.putPolicy(at, name, policy);
    const action = policy.lifetime_actions[0];
    if (action) {
      await this.certificates.putAttachment(at, name, LIFETIME, {
        version,
        actionType: action.action.action_type,
        due: lifetimeActionDue(action, facts.notBefore, facts.notAfter),
      });
    }
    return {
      name: heads[0]?.name ?? name,
      version,
      attributes,
      ...(tags ? { tags } : {}),
      cer: leaf,
      x5t: facts.x5t,
      contentType,
      policy,
      ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}),
    };
  }

  /** The key of a new version: the latest version's again when the policy reuses keys, else a new one. */
  private async keyFor(
    at: VaultAddress,
    name: string,
    version: string,
    policy: CertificatePolicy,
  ): Promise<{ material: ManagedKeyMaterial; fresh: boolean }> {
    const choice = keyChoice(policy);
    if (policy.key_props.reuse_key) {
      const head = await this.keyObjects.findHead(at, name);
      if (head) {
        const latest = await this.store.getVersion(at.vault.name, 'keys', name, head.latest);
        const kty = String(latest?.plain.kty ?? '');
        if (latest && kty === policy.key_props.kty) return { material: await this.keys.open(at, latest), fresh: false };
      }
    }
    return { material: await this.keys.generate(at, name, version, choice), fresh: true };
  }

  private signerOf(material: ManagedKeyMaterial): CertificateSigner {
    const crv = material.plain.crv;
    return {
      kind: material.plain.kty.startsWith('RSA') ? 'RSA' : 'EC',
      ...(crv === 'P-256' || crv === 'P-384' || crv === 'P-521' ? { curve: crv } : {}),
      sign: (data) => this.keys.sign(material, data),
    };
  }

  /**
   * The names must be free for a certificate: no deleted certificate, key or secret holds them, and a
   * live key or secret of that name is the certificate's own (managed), not a caller's.
   */
  private async assertNamesWritable(at: VaultAddress, name: string): Promise<void> {
    await this.certificates.assertNotDeleted(at, name);
    for (const [objects, label] of [
      [this.keyObjects, 'key'],
      [this.secretObjects, 'secret'],
    ] as const) {
      await objects.assertNotDeleted(at, name);
      const head = await objects.findHead(at, name);
      if (head && head.plain.managed !== true) {
        throw new Conflict(
          `Certificate ${printable(name)} cannot be written: a ${label} of that name exists in this vault and is not the certificate's own.`,
        );
      }
    }
  }
}

function x509Request(policy: CertificatePolicy): X509Request {
  const props = policy.x509_props;
  return {
    subject: props.subject,
    ...(props.sans ? { sans: props.sans } : {}),
    ...(props.ekus ? { ekus: props.ekus } : {}),
    ...(props.key_usage ? { key_usage: props.key_usage } : {}),
    validity_months: props.validity_months,
  };
}

/** A PEM import is named by its policy's content type (the official client sends PEM text then), or is recognizably PEM text. */
function importedContentType(input: ImportCertificateInput): CertificateContentType {
  const given = input.policy?.secret_props?.contentType;
  if (given === PEM || (given == null && input.value.trimStart().startsWith('-----BEGIN'))) return PEM;
  if (given != null && given !== PKCS12) throw new BadParameter(`Invalid content type '${printable(given)}': expected ${PKCS12} or ${PEM}.`);
  return PKCS12;
}

function readPemValue(value: string) {
  try {
    return readPem(value);
  } catch (error) {
    throw new BadParameter(`The PEM value could not be read: ${error instanceof Error ? error.message : 'malformed'}.`);
  }
}

async function readPfxValue(value: string, password: string | undefined) {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) throw new BadParameter('The certificate value is not base64: give the PFX base64-encoded, or PEM text.');
  try {
    return await readPkcs12(Buffer.from(value, 'base64'), password);
  } catch (error) {
    if (error instanceof Pkcs12WrongPassword)
      throw new BadParameter(
        'The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format, and the password is correct.',
      );
    if (error instanceof Pkcs12Unsupported)
      throw new BadParameter('The PKCS#12 file uses an encryption Coffer cannot read: export it with AES-256 (OpenSSL 3 defaults).');
    if (error instanceof Pkcs12Malformed)
      throw new BadParameter(
        'The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.',
      );
    throw error;
  }
}

function decodeCertificate(entry: string, index: number): Uint8Array {
  const text = entry.trim();
  const body = text.startsWith('-----BEGIN') ? text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '') : text;
  if (!/^[A-Za-z0-9+/=]+$/.test(body)) throw new BadParameter(`x5c[${index}] is not a base64 DER certificate.`);
  const der = Buffer.from(body, 'base64');
  describeCertificate(der);
  return der;
}
