import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import type { AuditStore } from '../audit/audit.ts';
import { type DeliveryOutcome, deliverAuditRecords, subscriptionData } from '../audit/delivery.ts';
import { dynamoDocumentClient } from '../aws/clients.ts';
import { DynamoAuditStore } from '../aws/dynamo-audit.ts';
import { type Config, config } from './config.ts';

/**
 * The audit delivery function's composition root: the audit store and a logger, nothing of the
 * request pipeline or the vault domains. Built on the first invocation, and again after the
 * configuration was reset (tests and the local stack point it elsewhere).
 */
interface DeliveryServices {
  config: Config;
  store: AuditStore;
  logger: Logger;
}

let current: DeliveryServices | undefined;

function services(): DeliveryServices {
  const cfg = config();
  if (current?.config !== cfg) {
    current = {
      config: cfg,
      store: new DynamoAuditStore(dynamoDocumentClient(cfg.region), cfg.auditTable, cfg.auditRetentionDays),
      logger: new Logger({ serviceName: 'coffer' }),
    };
  }
  return current;
}

/**
 * A CloudWatch Logs subscription's invocation: the audit records in its log events, into the audit
 * store. A rejection fails the invocation, so Lambda invokes it again with the same events (and,
 * after its retries, hands them to the on-failure destination); writing them again is harmless.
 */
export async function deliverAuditLogEvents(event: CloudWatchLogsEvent): Promise<DeliveryOutcome> {
  const { store, logger } = services();
  const data = subscriptionData(event);
  // CloudWatch Logs checks a new subscription's destination with a control message that carries no records.
  if (data.messageType !== 'DATA_MESSAGE') return { delivered: 0, ignored: data.logEvents.length, malformed: [] };
  const source = { logGroup: data.logGroup, logStream: data.logStream };
  try {
    const outcome = await deliverAuditRecords(data.logEvents, store);
    // An operator looks these events up in the source log stream; their content stays there.
    if (outcome.malformed.length > 0)
      logger.error('audit lines without a valid record were not delivered', { ...source, logEvents: outcome.malformed });
    logger.info('audit records delivered', { ...source, delivered: outcome.delivered, ignored: outcome.ignored });
    return outcome;
  } catch (error) {
    logger.error('audit delivery failed; the batch will be delivered again', { ...source, logEvents: data.logEvents.length, error });
    throw error;
  }
}
