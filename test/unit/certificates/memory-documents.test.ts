import { MemoryCertificateDocuments } from '../../../lib/certificates/memory-documents.ts';
import { describeCertificateDocumentsContract } from '../../contract/certificate-documents.contract.ts';

describeCertificateDocumentsContract('in memory', () => new MemoryCertificateDocuments());
