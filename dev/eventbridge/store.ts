import { join } from 'node:path';
import { makePrivateDirectory, readFileIfExists, writePrivateFile } from '../files.ts';
import type { TargetInput } from './transform.ts';

/**
 * The local EventBridge's resources, kept in one owner-only JSON file under the stack's data
 * directory so rules, targets, connections and API destinations outlive a restart. It holds the
 * connections' credentials (API keys, passwords), which in AWS live in Secrets Manager: hence
 * owner-only, and never in a log.
 */
export interface Rule {
  Name: string;
  Arn: string;
  EventBusName: string;
  EventPattern?: string;
  ScheduleExpression?: string;
  State: 'ENABLED' | 'DISABLED';
  Description?: string;
  RoleArn?: string;
}

export interface Parameter {
  Key: string;
  Value: string;
  IsValueSecret?: boolean;
}

export interface HttpParameters {
  PathParameterValues?: string[];
  HeaderParameters?: Record<string, string>;
  QueryStringParameters?: Record<string, string>;
}

export interface Target extends TargetInput {
  Id: string;
  Arn: string;
  RoleArn?: string;
  HttpParameters?: HttpParameters;
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
}

export interface Connection {
  Name: string;
  ConnectionArn: string;
  Description?: string;
  AuthorizationType: 'BASIC' | 'API_KEY' | 'OAUTH_CLIENT_CREDENTIALS';
  AuthParameters: {
    BasicAuthParameters?: { Username: string; Password: string };
    ApiKeyAuthParameters?: { ApiKeyName: string; ApiKeyValue: string };
    InvocationHttpParameters?: {
      HeaderParameters?: Parameter[];
      QueryStringParameters?: Parameter[];
      BodyParameters?: Parameter[];
    };
  };
  CreationTime: number;
  LastModifiedTime: number;
}

export interface ApiDestination {
  Name: string;
  ApiDestinationArn: string;
  Description?: string;
  ConnectionArn: string;
  InvocationEndpoint: string;
  HttpMethod: string;
  InvocationRateLimitPerSecond: number;
  CreationTime: number;
  LastModifiedTime: number;
}

export interface State {
  buses: string[];
  /** By `<bus>/<rule name>`. */
  rules: Record<string, Rule>;
  targets: Record<string, Target[]>;
  connections: Record<string, Connection>;
  apiDestinations: Record<string, ApiDestination>;
}

export class EventBridgeStore {
  private constructor(
    private readonly file: string,
    readonly state: State,
  ) {}

  static async open(dataDir: string, buses: readonly string[]): Promise<EventBridgeStore> {
    await makePrivateDirectory(dataDir);
    const file = join(dataDir, 'state.json');
    const saved = await readFileIfExists(file);
    const state: State = saved ? (JSON.parse(saved) as State) : { buses: [], rules: {}, targets: {}, connections: {}, apiDestinations: {} };
    const store = new EventBridgeStore(file, state);
    for (const bus of buses) if (!state.buses.includes(bus)) state.buses.push(bus);
    await store.save();
    return store;
  }

  save(): Promise<void> {
    return writePrivateFile(this.file, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

export function ruleKey(bus: string, name: string): string {
  return `${bus}/${name}`;
}
