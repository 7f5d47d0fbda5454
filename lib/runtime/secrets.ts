import { defineOperation } from '../http/operation.ts';

/** The secrets functions' composition root. */
export const secretsOperation = defineOperation;
