import { defineOperation } from '../http/operation.ts';

/** The keys functions' composition root. */
export const keysOperation = defineOperation;
