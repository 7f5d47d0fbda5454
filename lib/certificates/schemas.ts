import * as z from 'zod/mini';
import { attributesInput, tagsInput } from '../objects/schemas.ts';

/**
 * Request bodies of the certificate operations (reference §1.3), as the official clients send them:
 * the policy's parts are snake_case on the wire (`key_props`, `x509_props`...), the bundles' fields
 * camelCase. Range and value rules (key types, sizes, validity, usages) are in policy.ts, so a
 * message can say what is allowed; these schemas check types only.
 */
const nullishString = z.nullish(z.string());
const nullishStrings = z.nullish(z.array(z.string()));

const keyPropertiesInput = z.object({
  exportable: z.nullish(z.boolean()),
  kty: nullishString,
  key_size: z.nullish(z.number().check(z.int())),
  reuse_key: z.nullish(z.boolean()),
  crv: nullishString,
});

const x509PropertiesInput = z.object({
  subject: nullishString,
  ekus: nullishStrings,
  sans: z.nullish(z.object({ emails: nullishStrings, dns_names: nullishStrings, upns: nullishStrings })),
  key_usage: nullishStrings,
  validity_months: z.nullish(z.number().check(z.int())),
});

const lifetimeActionInput = z.object({
  trigger: z.nullish(
    z.object({
      lifetime_percentage: z.nullish(z.number().check(z.int())),
      days_before_expiry: z.nullish(z.number().check(z.int())),
    }),
  ),
  action: z.nullish(z.object({ action_type: nullishString })),
});

const issuerParametersInput = z.object({
  name: nullishString,
  cty: nullishString,
  cert_transparency: z.nullish(z.boolean()),
});

export const certificatePolicyInput = z.object({
  key_props: z.nullish(keyPropertiesInput),
  secret_props: z.nullish(z.object({ contentType: nullishString })),
  x509_props: z.nullish(x509PropertiesInput),
  lifetime_actions: z.nullish(z.array(lifetimeActionInput)),
  issuer: z.nullish(issuerParametersInput),
  attributes: z.nullish(z.object({ enabled: z.nullish(z.boolean()) })),
});

export const createCertificateBody = z.object({
  policy: z.nullish(certificatePolicyInput),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
  preserveCertOrder: z.nullish(z.boolean()),
});

export const importCertificateBody = z.object({
  value: z.string().check(z.minLength(1)),
  pwd: nullishString,
  policy: z.nullish(certificatePolicyInput),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
  preserveCertOrder: z.nullish(z.boolean()),
});

export const updateCertificateBody = z.object({
  policy: z.nullish(certificatePolicyInput),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
});

export const mergeCertificateBody = z.object({
  x5c: z.array(z.string()).check(z.minLength(1)),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
});

export const updateCertificateOperationBody = z.object({ cancellation_requested: z.boolean() });

export const restoreCertificateBody = z.object({ value: z.string().check(z.minLength(1)) });

export const contactsBody = z.object({
  contacts: z.array(z.object({ email: nullishString, name: nullishString, phone: nullishString })),
});

const issuerCredentials = z.object({ account_id: nullishString, pwd: nullishString });
const organizationDetails = z.object({
  id: nullishString,
  admin_details: z.nullish(z.array(z.object({ first_name: nullishString, last_name: nullishString, email: nullishString, phone: nullishString }))),
});

/** PUT /certificates/issuers/{name}: `provider` is required. */
export const setIssuerBody = z.object({
  provider: z.string().check(z.minLength(1)),
  credentials: z.nullish(issuerCredentials),
  org_details: z.nullish(organizationDetails),
  attributes: z.nullish(z.object({ enabled: z.nullish(z.boolean()) })),
});

/** PATCH /certificates/issuers/{name}: what is present replaces, what is absent stays. */
export const updateIssuerBody = z.object({
  provider: nullishString,
  credentials: z.nullish(issuerCredentials),
  org_details: z.nullish(organizationDetails),
  attributes: z.nullish(z.object({ enabled: z.nullish(z.boolean()) })),
});

export type CertificatePolicyInput = z.infer<typeof certificatePolicyInput>;
export type CreateCertificateInput = z.infer<typeof createCertificateBody>;
export type ImportCertificateInput = z.infer<typeof importCertificateBody>;
export type UpdateCertificateInput = z.infer<typeof updateCertificateBody>;
export type MergeCertificateInput = z.infer<typeof mergeCertificateBody>;
export type UpdateCertificateOperationInput = z.infer<typeof updateCertificateOperationBody>;
export type ContactsInput = z.infer<typeof contactsBody>;
export type SetIssuerInput = z.infer<typeof setIssuerBody>;
export type UpdateIssuerInput = z.infer<typeof updateIssuerBody>;
