import { publishStreamEvents } from '#lib/runtime/events';

/** On the objects table's stream: Key Vault's events, from committed changes, to the EventBridge bus (lib/events). */
export const handler = publishStreamEvents;
