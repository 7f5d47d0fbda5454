import { BadParameter } from '../core/errors.ts';
import { operations, dataPlane } from '../http/pipelines.ts';
import { DynamoCertificateDocuments } from '../aws/dynamo-certificate-documents.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import type { CertificateServiceParts } from '../certificates/base.ts';
import { CertificateService } from '../certificates/certificates.ts';
import { familyServices, pipelineServices, type SharedServices } from './services.ts';

/**
 * The certificates functions' composition root: the shared services, the certificates domain, its
 * documents (contacts, issuers, operations) in the objects table and the HSM (KMS) keys behind
 * HSM-backed certificates. It carries no X.509 library: the three functions that make certificate
 * versions (create, import, merge) have their own root, lib/runtime/certificate-issuance.ts
 * (docs/adr/0006, docs/adr/0014).
 */
export interface CertificatesServices {
  certificates: CertificateService;
}

/** What both certificate services are built from: the shared root's stores and KMS, and the documents store. */
export function certificateParts({ config, logger, dynamo, kms, objects, sealer, backups, clock }: SharedServices): CertificateServiceParts {
  return {
    objects,
    sealer,
    backups,
    documents: new DynamoCertificateDocuments(dynamo, config.objectsTable),
    hsm: new KmsKeyProtection(kms),
    warn: (message, details) => logger.warn(message, details),
    kmsKeyTags: config.deployment ? { 'coffer:deployment': config.deployment } : {},
    clock,
  };
}

const certificatesServices = familyServices<CertificatesServices>((shared) => ({
  certificates: new CertificateService(certificateParts(shared)),
}));

/** `certificatesOperation('GetCertificate', schemas, run)`: a certificates handler on the data-plane pipeline. */
export const certificatesOperation = operations(dataPlane, pipelineServices, certificatesServices);

/**
 * The lists' `includePending` query parameter: absent is false; Azure's boolean is `true` or `false`,
 * and anything else is refused rather than read as false, so a typo does not hide pending certificates.
 */
export function includePending(query: Record<string, string | undefined>): boolean {
  const value = query.includePending;
  if (value === undefined || value === '') return false;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new BadParameter("The query parameter 'includePending' must be 'true' or 'false'.");
}
