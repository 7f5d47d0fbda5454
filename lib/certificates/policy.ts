import { BadParameter } from '../core/errors.ts';
import { printable } from '../core/names.ts';
import type { Curve, KeyKind } from '../keys/algorithms.ts';
import type { Vault } from '../vaults/vault.ts';
import type { CertificateContentType, CertificateKeyType, CertificatePolicy, LifetimeAction, LifetimeActionType } from './records.ts';
import type { CertificatePolicyInput } from './schemas.ts';
import type { CertificateFacts } from './x509.ts';
import { KEY_USAGES } from './key-usages.ts';

/**
 * A certificate's policy (reference §1.3): what a create, an import or a policy update gives, checked
 * and completed with Azure's defaults, so the stored policy is always whole. A later PATCH of the policy
 * changes what it names and keeps the rest.
 */
export const PKCS12: CertificateContentType = 'application/x-pkcs12';
export const PEM: CertificateContentType = 'application/x-pem-file';

const KEY_TYPES: readonly CertificateKeyType[] = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM'];
const RSA_SIZES = [2048, 3072, 4096];
/** Curves a certificate's key may be on: node:crypto and X.509 sign and verify them everywhere. */
const CERTIFICATE_CURVES: readonly Curve[] = ['P-256', 'P-384', 'P-521'];
const LIFETIME_ACTIONS: readonly LifetimeActionType[] = ['EmailContacts', 'AutoRenew'];
/** Azure's limit on a self-signed certificate's validity. */
const MAX_VALIDITY_MONTHS = 1200;
export const SELF_ISSUER = 'Self';
export const UNKNOWN_ISSUER = 'Unknown';

export interface KeyChoice {
  kind: KeyKind;
  hsm: boolean;
  keySize?: number;
  curve?: Curve;
}

/** The key a policy asks for. */
export function keyChoice(policy: CertificatePolicy): KeyChoice {
  const { kty, key_size, crv } = policy.key_props;
  const kind: KeyKind = kty.startsWith('RSA') ? 'RSA' : 'EC';
  return { kind, hsm: kty.endsWith('-HSM'), ...(kind === 'RSA' ? { keySize: key_size ?? 2048 } : { curve: crv ?? 'P-256' }) };
}

/**
 * The whole policy from a create's or an update's input over `base` (the policy stored before, or
 * Azure's defaults). `now` stamps the policy's attributes.
 */
export function resolvePolicy(
  input: CertificatePolicyInput | null | undefined,
  vault: Vault,
  now: number,
  base?: CertificatePolicy,
): CertificatePolicy {
  const given = input ?? {};
  const keyInput = given.key_props ?? {};
  const kty = (keyInput.kty ?? base?.key_props.kty ?? 'RSA') as CertificateKeyType;
  if (!KEY_TYPES.includes(kty))
    throw new BadParameter(`Invalid key type '${printable(String(kty))}' in the policy: expected RSA, RSA-HSM, EC or EC-HSM.`);
  const hsm = kty.endsWith('-HSM');
  if (hsm && vault.sku !== 'premium') throw new BadParameter(`Key type '${kty}' requires a premium vault; this vault is standard.`);
  const kind: KeyKind = kty.startsWith('RSA') ? 'RSA' : 'EC';
  // The stored policy's key size or curve carry over only to a key of the same kind.
  const sameKind = base?.key_props.kty.startsWith(kind) ? base : undefined;
  const exportable = keyInput.exportable ?? (sameKind?.key_props.kty === kty ? sameKind.key_props.exportable : !hsm);
  if (hsm && exportable) throw new BadParameter(`An ${kty} key cannot be exportable: its private key never leaves the HSM.`);
  let keyProps: CertificatePolicy['key_props'];
  if (kind === 'RSA') {
    if (keyInput.crv != null) throw new BadParameter("The 'crv' key property is only valid for EC keys.");
    const keySize = keyInput.key_size ?? sameKind?.key_props.key_size ?? 2048;
    if (!RSA_SIZES.includes(keySize)) throw new BadParameter(`Invalid key size ${keySize} in the policy: RSA keys are 2048, 3072 or 4096 bits.`);
    keyProps = { exportable, kty, key_size: keySize, reuse_key: keyInput.reuse_key ?? base?.key_props.reuse_key ?? false };
  } else {
    if (keyInput.key_size != null && ![256, 384, 521].includes(keyInput.key_size)) {
      throw new BadParameter(`Invalid key size ${keyInput.key_size} for an EC key: give the curve ('crv') instead.`);
    }
    const crv = (keyInput.crv ?? sameKind?.key_props.crv ?? curveOfSize(keyInput.key_size) ?? 'P-256') as Curve;
    if (!CERTIFICATE_CURVES.includes(crv)) {
      throw new BadParameter(`Invalid curve '${printable(String(crv))}' for a certificate key: expected P-256, P-384 or P-521.`);
    }
    keyProps = { exportable, kty, crv, reuse_key: keyInput.reuse_key ?? base?.key_props.reuse_key ?? false };
  }

  const contentType = (given.secret_props?.contentType ?? base?.secret_props.contentType ?? PKCS12) as CertificateContentType;
  if (contentType !== PKCS12 && contentType !== PEM) {
    throw new BadParameter(`Invalid content type '${printable(contentType)}': expected ${PKCS12} or ${PEM}.`);
  }

  const x509 = resolveX509(given.x509_props, base?.x509_props);
  const issuer = resolveIssuer(given.issuer, base?.issuer);
  const lifetimeActions = resolveLifetimeActions(given.lifetime_actions, base?.lifetime_actions, issuer.name, x509.validity_months);
  return {
    key_props: keyProps,
    secret_props: { contentType },
    x509_props: x509,
    lifetime_actions: lifetimeActions,
    issuer,
    attributes: { enabled: given.attributes?.enabled ?? base?.attributes.enabled ?? true, created: base?.attributes.created ?? now, updated: now },
  };
}

/** An imported certificate's policy: what the certificate says, under what the caller's policy says. */
export function derivedPolicy(
  facts: CertificateFacts,
  input: CertificatePolicyInput | null | undefined,
  contentType: CertificateContentType,
  hsm: boolean,
  vault: Vault,
  now: number,
): CertificatePolicy {
  const kty: CertificateKeyType = `${facts.kind}${hsm ? '-HSM' : ''}` as CertificateKeyType;
  const base: CertificatePolicy = {
    key_props:
      facts.kind === 'RSA'
        ? { exportable: !hsm, kty, key_size: facts.keySize ?? 2048, reuse_key: false }
        : { exportable: !hsm, kty, crv: facts.curve ?? 'P-256', reuse_key: false },
    secret_props: { contentType },
    x509_props: {
      subject: facts.subject,
      ...(facts.sans ? { sans: facts.sans } : {}),
      ...(facts.ekus ? { ekus: facts.ekus } : {}),
      ...(facts.key_usage ? { key_usage: facts.key_usage } : {}),
      validity_months: Math.min(Math.max(facts.validityMonths, 1), MAX_VALIDITY_MONTHS),
    },
    lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } }],
    issuer: { name: UNKNOWN_ISSUER },
    attributes: { enabled: true, created: now, updated: now },
  };
  const policy = resolvePolicy(input, vault, now, base);
  // The key is what the certificate holds: a policy cannot make it another type, size or curve.
  const choice = keyChoice(policy);
  if (choice.kind !== facts.kind || (facts.kind === 'RSA' ? choice.keySize !== facts.keySize : choice.curve !== facts.curve)) {
    throw new BadParameter("The policy's key properties do not match the key of the certificate being imported.");
  }
  return { ...policy, secret_props: { contentType } };
}

function curveOfSize(size: number | null | undefined): Curve | undefined {
  return size === 256 ? 'P-256' : size === 384 ? 'P-384' : size === 521 ? 'P-521' : undefined;
}

function resolveX509(
  input: CertificatePolicyInput['x509_props'],
  base: CertificatePolicy['x509_props'] | undefined,
): CertificatePolicy['x509_props'] {
  const given = input ?? {};
  const subject = given.subject ?? base?.subject ?? '';
  const sansInput = given.sans ?? base?.sans;
  const sans = sansInput
    ? {
        ...(sansInput.emails?.length ? { emails: [...sansInput.emails] } : {}),
        ...(sansInput.dns_names?.length ? { dns_names: [...sansInput.dns_names] } : {}),
        ...(sansInput.upns?.length ? { upns: [...sansInput.upns] } : {}),
      }
    : undefined;
  const hasSans = sans !== undefined && Object.keys(sans).length > 0;
  if (subject.trim() === '' && !hasSans) {
    throw new BadParameter('The policy must give a subject or at least one subject alternative name (x509_props.subject or x509_props.sans).');
  }
  const validity = given.validity_months ?? base?.validity_months ?? 12;
  if (validity < 1 || validity > MAX_VALIDITY_MONTHS) {
    throw new BadParameter(`Invalid validity_months ${validity}: a certificate is valid for 1 to ${MAX_VALIDITY_MONTHS} months.`);
  }
  const keyUsage = given.key_usage ?? base?.key_usage;
  for (const usage of keyUsage ?? []) {
    if (!(KEY_USAGES as readonly string[]).includes(usage))
      throw new BadParameter(`Invalid key usage '${printable(usage)}': expected one of ${KEY_USAGES.join(', ')}.`);
  }
  const ekus = given.ekus ?? base?.ekus;
  for (const eku of ekus ?? []) {
    if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(eku))
      throw new BadParameter(`Invalid extended key usage '${printable(eku)}': expected an object identifier such as 1.3.6.1.5.5.7.3.1.`);
  }
  return {
    subject,
    ...(hasSans ? { sans } : {}),
    ...(ekus ? { ekus: [...ekus] } : {}),
    ...(keyUsage ? { key_usage: [...keyUsage] } : {}),
    validity_months: validity,
  };
}

function resolveIssuer(input: CertificatePolicyInput['issuer'], base: CertificatePolicy['issuer'] | undefined): CertificatePolicy['issuer'] {
  const name = input?.name ?? base?.name ?? SELF_ISSUER;
  if (name.trim() === '') throw new BadParameter('The policy names an empty issuer.');
  const cty = input?.cty ?? base?.cty;
  const transparency = input?.cert_transparency ?? base?.cert_transparency;
  return { name, ...(cty != null ? { cty } : {}), ...(transparency != null ? { cert_transparency: transparency } : {}) };
}

function resolveLifetimeActions(
  input: CertificatePolicyInput['lifetime_actions'],
  base: LifetimeAction[] | undefined,
  issuer: string,
  validityMonths: number,
): LifetimeAction[] {
  // Azure's default: renew a self-signed certificate at 80% of its life; for others, tell the contacts.
  const defaultAction: LifetimeActionType = issuer === UNKNOWN_ISSUER ? 'EmailContacts' : 'AutoRenew';
  if (input == null) return base ?? [{ trigger: { lifetime_percentage: 80 }, action: { action_type: defaultAction } }];
  if (input.length > 1) throw new BadParameter('A certificate policy takes at most one lifetime action.');
  return input.map((action) => {
    const type = action.action?.action_type as LifetimeActionType | undefined;
    if (!type || !LIFETIME_ACTIONS.includes(type)) {
      throw new BadParameter(`Invalid lifetime action type '${printable(String(type))}': expected EmailContacts or AutoRenew.`);
    }
    if (type === 'AutoRenew' && issuer === UNKNOWN_ISSUER) {
      throw new BadParameter("AutoRenew is not possible for a certificate of issuer 'Unknown': its certificates are signed outside the vault.");
    }
    const percentage = action.trigger?.lifetime_percentage;
    const days = action.trigger?.days_before_expiry;
    if ((percentage == null) === (days == null)) {
      throw new BadParameter('A lifetime action trigger gives exactly one of lifetime_percentage and days_before_expiry.');
    }
    if (percentage != null && (percentage < 1 || percentage > 99)) {
      throw new BadParameter(`Invalid lifetime_percentage ${percentage}: expected 1 to 99.`);
    }
    // The shortest month has 28 days: the trigger must fall inside the certificate's life.
    if (days != null && (days < 1 || days >= validityMonths * 28)) {
      throw new BadParameter(
        `Invalid days_before_expiry ${days}: expected 1 to ${validityMonths * 28 - 1} for a validity of ${validityMonths} months.`,
      );
    }
    return { trigger: percentage != null ? { lifetime_percentage: percentage } : { days_before_expiry: days! }, action: { action_type: type } };
  });
}

/**
 * When a lifetime action falls due for a certificate valid from `nbf` to `exp` (seconds): the stored
 * due time the scheduler (events issue) acts on.
 */
export function lifetimeActionDue(action: LifetimeAction, nbf: number, exp: number): number {
  if (action.trigger.lifetime_percentage != null) return Math.floor(nbf + ((exp - nbf) * action.trigger.lifetime_percentage) / 100);
  return exp - (action.trigger.days_before_expiry ?? 0) * 86_400;
}
