import { purgeDeletedPoolsDue } from '#lib/runtime/pool-management';

/** Every minute (the pools' stack's EventBridge rate rule; locally the gateway's scheduler timer): deleted pools whose retention ended are purged (docs/adr/0020). */
export const handler = purgeDeletedPoolsDue;
