import { CertificateIssuance } from '../certificates/issuance.ts';
import { CertificateService } from '../certificates/certificates.ts';
import { type ClockOffsets, nowSeconds, vaultClock } from '../core/clock.ts';
import type { EventPublisher } from '../events/publish.ts';
import { ServiceActions } from '../events/scheduled-actions.ts';
import { type RunSummary, Scheduler } from '../events/scheduler.ts';
import { KeyService } from '../keys/keys.ts';
import { SecretService } from '../secrets/secrets.ts';
import { VaultManager } from '../vaults/manage.ts';
import { eventSubscriptionsOf } from './event-subscriptions.ts';
import { EventBridgeClient } from '../aws/api/eventbridge.ts';
import { DynamoDueStore } from '../aws/dynamo-schedule.ts';
import { EventBridgePublisher } from '../aws/eventbridge-publisher.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import { certificateParts } from './certificates.ts';
import { FileClockOffsets, lookaheadOf } from './clock-offsets.ts';
import { familyServices, type SharedServices } from './services.ts';

/**
 * The scheduler function's composition root: the shared services, the domains whose public
 * operations the scheduled work calls (key rotation, certificate renewal, the purges), the due store
 * and the EventBridge publisher. It carries the X.509 library (renewal issues certificates), so it is
 * bundled with the certificate issuance budget (scripts/bundle.ts).
 */
interface SchedulerServices {
  scheduler: Scheduler;
}

/**
 * Where no bus is configured (a local stack started without its event path) the events wait: their
 * work is tried again later, while rotations and purges go on.
 */
const noBus: EventPublisher = { publish: async (events) => ({ failed: events }) };

/** Built from the shared root; `offsets` are the local stack's time shift (absent in every deployment). */
export function schedulerOf(shared: SharedServices, offsets: (ClockOffsets & Partial<Pick<FileClockOffsets, 'current'>>) | undefined): Scheduler {
  const { config: cfg, logger, kms, objects, sealer, backups, dynamo, vaultStore } = shared;
  const clock = vaultClock(offsets);
  const warn = (message: string, details: Record<string, unknown> = {}) => logger.warn(message, details);
  const kmsKeyTags: Record<string, string> = cfg.deployment ? { 'coffer:deployment': cfg.deployment } : {};
  const parts = { ...certificateParts(shared), clock };
  const eventSubscriptions = eventSubscriptionsOf(shared);
  // The vault lifecycle as the management root builds it (lib/runtime/management.ts), for the purge.
  const vaults = new VaultManager(
    vaultStore,
    new KmsKeyProtection(kms),
    {
      vaultDomain: cfg.vaultDomain,
      vaultEndpoints: cfg.vaultEndpoints,
      deployment: cfg.deployment,
      tenantOf: (id) => shared.pipeline.subscriptions.tenantOf(id),
      changed: (name) => shared.vaults.forget(name),
      assignments: shared.accessStore,
      revoked: (principal) => shared.access.forget(principal),
      // A purged vault's event subscriptions stop delivering, as a purge through the management API does.
      purging: (name) => eventSubscriptions.removeAll(name),
    },
    clock,
  );
  return new Scheduler(
    new DynamoDueStore(dynamo, cfg.objectsTable),
    { objects, vaults: vaultStore },
    new ServiceActions({
      secrets: new SecretService(objects, sealer, backups, clock),
      keys: new KeyService(objects, sealer, backups, new KmsKeyProtection(kms), warn, kmsKeyTags, clock),
      certificates: new CertificateService(parts),
      issuance: new CertificateIssuance(parts),
      vaults,
    }),
    cfg.eventBus ? new EventBridgePublisher(new EventBridgeClient({ region: cfg.region }), cfg.eventBus) : noBus,
    shared.audit,
    { vault: clock, real: nowSeconds, lookahead: offsets?.current ? lookaheadOf(offsets as FileClockOffsets) : () => 0 },
    warn,
  );
}

const schedulerServices = familyServices<SchedulerServices>((shared) => ({
  scheduler: schedulerOf(shared, shared.config.clockOffsetsFile ? new FileClockOffsets(shared.config.clockOffsetsFile) : undefined),
}));

/** One run of the scheduled work that fell due (the rate rule's invocation, or the local timer's tick). */
export async function runScheduledWork(): Promise<RunSummary> {
  const { scheduler } = schedulerServices();
  return scheduler.run();
}
