import { CertificateIssuance } from '../certificates/issuance.ts';
import { dataPlane, operations } from '../http/pipelines.ts';
import { certificateParts } from './certificates.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The composition root of the three certificate functions that make versions (CreateCertificate,
 * ImportCertificate, MergeCertificate): the only one that carries the X.509 and PKCS#12 library, so
 * the other certificate functions keep the common bundle budget (docs/adr/0014, "Bundle size").
 */
export interface CertificateIssuanceServices {
  issuance: CertificateIssuance;
}

const issuanceServices = familyServices<CertificateIssuanceServices>((shared) => ({
  issuance: new CertificateIssuance(certificateParts(shared)),
}));

/** `certificateIssuanceOperation('CreateCertificate', schemas, run)`: an issuing certificates handler on the data-plane pipeline. */
export const certificateIssuanceOperation = operations(dataPlane, pipelineServices, issuanceServices);
