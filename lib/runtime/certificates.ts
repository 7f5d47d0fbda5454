import { BadParameter } from '../core/errors.ts';
import { operations, dataPlane } from '../http/pipelines.ts';
import { DynamoCertificateDocuments } from '../aws/dynamo-certificate-documents.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import { CertificateService } from '../certificates/certificates.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The certificates functions' composition root: the shared services, the certificates domain, its
 * documents (contacts, issuers, operations) in the objects table and the HSM (KMS) keys behind
 * HSM-backed certificates. The X.509 library comes in through the domain, so only this family's
 * bundles carry it (docs/adr/0006).
 */
export interface CertificatesServices {
  certificates: CertificateService;
}

const certificatesServices = familyServices<CertificatesServices>(({ config, logger, dynamo, kms, objects, sealer, backups }) => ({
  certificates: new CertificateService({
    objects,
    sealer,
    backups,
    documents: new DynamoCertificateDocuments(dynamo, config.objectsTable),
    hsm: new KmsKeyProtection(kms),
    warn: (message, details) => logger.warn(message, details),
    kmsKeyTags: config.deployment ? { 'coffer:deployment': config.deployment } : {},
  }),
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
