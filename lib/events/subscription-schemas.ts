import * as z from 'zod/mini';

/** The body a PUT or PATCH of an event subscription must be: a JSON object; its fields are checked by lib/events/subscriptions.ts, with Event Grid's messages. */
export const eventSubscriptionBody = z.record(z.string(), z.unknown());
