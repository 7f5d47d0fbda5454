/**
 * The gateway's own process. It runs apart from the launcher because the handlers inside it must
 * trust the local CA when they fetch the identity provider's keys, and Node reads
 * NODE_EXTRA_CA_CERTS only at process start; it also keeps the handlers' environment exactly what a
 * Lambda function would see.
 */
import { readFile } from 'node:fs/promises';
import { startGateway } from './gateway.ts';

const certPem = await readFile(process.env.COFFER_TLS_CERT_FILE!, 'utf8');
const keyPem = await readFile(process.env.COFFER_TLS_KEY_FILE!, 'utf8');
const gateway = await startGateway({ tls: { certPem, keyPem }, port: Number(process.env.COFFER_GATEWAY_PORT ?? 0) });
process.send?.({ type: 'ready', port: gateway.port });

const stop = () => {
  void gateway.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The launcher owns this process: when it goes away, so does the gateway.
process.on('disconnect', stop);
