import { runScheduledWork } from '#lib/runtime/scheduler';

/** Every minute (an EventBridge rate rule; locally a timer in the gateway): the scheduled work that fell due (lib/events/scheduler.ts). */
export const handler = runScheduledWork;
