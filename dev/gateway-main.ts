/**
 * The gateway's own process. It runs apart from the launcher because the handlers inside it must
 * trust the local CA when they fetch the identity provider's keys, and Node reads
 * NODE_EXTRA_CA_CERTS only at process start; it also keeps the handlers' environment exactly what a
 * Lambda function would see. Its standard output is the functions' log stream (the launcher points
 * it at a file): the audit records they write there are delivered to the audit table from here, as
 * the log subscription delivers them in AWS (dev/audit-delivery.ts).
 */
import { readFile } from 'node:fs/promises';
import { VaultRateLimiter } from '#lib/http/middleware/vault-limits';
import { config } from '#lib/runtime/config';
import { handler as deliverAuditRecords } from '../functions/audit/deliver-audit-records.ts';
import { handler as publishEvents } from '../functions/events/publish-events.ts';
import { startAuditDelivery } from './audit-delivery.ts';
import { startEventStream } from './event-stream.ts';
import { startGateway } from './gateway.ts';
import { startSchedulerTimer } from './scheduler-timer.ts';

const certPem = await readFile(process.env.COFFER_TLS_CERT_FILE!, 'utf8');
const keyPem = await readFile(process.env.COFFER_TLS_KEY_FILE!, 'utf8');
const gateway = await startGateway({
  tls: { certPem, keyPem },
  port: Number(process.env.COFFER_GATEWAY_PORT ?? 0),
  managementPort: Number(process.env.COFFER_MANAGEMENT_PORT ?? 0),
  // The pool the handlers hand out to new vaults is the one listened on: both read the same variable.
  vaultEndpointPorts: config().vaultEndpoints.map((endpoint) => Number(new URL(endpoint).port || 443)),
  // On when the launcher says so (dev/stack.ts `vaultLimits`: npm start).
  vaultLimits: process.env.COFFER_VAULT_LIMITS === 'on' ? new VaultRateLimiter() : undefined,
}).catch(async (error: NodeJS.ErrnoException & { port?: number }) => {
  // The launcher picked the endpoint ports free, but another process may take one before this one
  // listens: it says so, and the launcher picks others (dev/stack.ts `startGatewayProcess`).
  if (error.code === 'EADDRINUSE') {
    console.error(`gateway: port ${error.port} is taken`);
    await new Promise((sent) => process.send?.({ type: 'port-taken', port: error.port }, sent) ?? sent(undefined));
    process.exit(1);
  }
  throw error;
});
// Off only when the launcher says so (dev/stack.ts `auditDelivery`: the benchmark).
const delivery =
  process.env.COFFER_AUDIT_DELIVERY === 'off'
    ? undefined
    : await startAuditDelivery({
        logFile: process.env.COFFER_GATEWAY_LOG!,
        stateFile: process.env.COFFER_AUDIT_DELIVERY_STATE!,
        deliver: deliverAuditRecords,
      });
// The objects table's stream to the event function, as the event source mapping does in AWS; off
// only when the launcher says so (dev/stack.ts `eventStream`: the benchmark).
const eventStream =
  process.env.COFFER_EVENT_STREAM === 'off'
    ? undefined
    : await startEventStream({
        endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
        tableName: config().objectsTable,
        stateFile: process.env.COFFER_EVENT_STREAM_STATE!,
        deadLetterFile: process.env.COFFER_EVENT_STREAM_DEAD_LETTER!,
        handler: publishEvents,
      });
// The scheduled work on a timer, as the rate rule runs it in AWS (dev/scheduler-timer.ts).
const scheduler = startSchedulerTimer();
process.send?.({ type: 'ready', port: gateway.port, managementPort: gateway.managementPort });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  // Requests first, then what they logged last is delivered once more.
  void gateway
    .close()
    .then(() => Promise.all([delivery?.stop(), eventStream?.stop(), scheduler.stop()]))
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The launcher owns this process: when it goes away, so does the gateway.
process.on('disconnect', stop);
