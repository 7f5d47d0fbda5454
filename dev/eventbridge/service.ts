import { randomUUID } from 'node:crypto';
import { appendPrivateLine } from '../files.ts';
import type { Deliverer } from './delivery.ts';
import { eventBridgeError, validationError } from './errors.ts';
import { matchesPattern, parseEventPattern } from './pattern.ts';
import type { ApiDestination, Connection, EventBridgeStore, Parameter, Rule, Target } from './store.ts';
import { ruleKey } from './store.ts';
import { checkTargetInput } from './transform.ts';

/**
 * The EventBridge operations the local stack needs, with the request and response shapes of the
 * EventBridge API (and `@aws-sdk/client-eventbridge`): PutEvents; PutRule, DeleteRule, DescribeRule,
 * ListRules, EnableRule, DisableRule; PutTargets, RemoveTargets, ListTargetsByRule;
 * Create/Describe/Update/Delete/ListConnection(s); Create/Describe/Update/Delete/ListApiDestination(s). Timestamps are epoch seconds, as JSON 1.1 carries them.
 */
type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

export interface ServiceOptions {
  region: string;
  accountId: string;
  eventsLog: string;
}

const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const HTTP_METHODS = new Set(['POST', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);
const AUTHORIZATION_TYPES = new Set(['BASIC', 'OAUTH_CLIENT_CREDENTIALS', 'API_KEY']);
const MAX_TARGETS_PER_RULE = 5;
const MAX_ENTRY_BYTES = 256 * 1024;

export class LocalEventBridgeService {
  private readonly operations: Record<string, (input: Input) => Promise<Output> | Output>;

  constructor(
    private readonly store: EventBridgeStore,
    private readonly deliverer: Deliverer,
    private readonly options: ServiceOptions,
  ) {
    this.operations = {
      PutEvents: (input) => this.putEvents(input),
      PutRule: (input) => this.putRule(input),
      DeleteRule: (input) => this.deleteRule(input),
      DescribeRule: (input) => this.describeRule(input),
      ListRules: (input) => this.listRules(input),
      EnableRule: (input) => this.setRuleState(input, 'ENABLED'),
      DisableRule: (input) => this.setRuleState(input, 'DISABLED'),
      PutTargets: (input) => this.putTargets(input),
      RemoveTargets: (input) => this.removeTargets(input),
      ListTargetsByRule: (input) => this.listTargetsByRule(input),
      CreateConnection: (input) => this.createConnection(input),
      DescribeConnection: (input) => this.describeConnection(input),
      DeleteConnection: (input) => this.deleteConnection(input),
      UpdateConnection: (input) => this.updateConnection(input),
      ListConnections: (input) => this.listConnections(input),
      CreateApiDestination: (input) => this.createApiDestination(input),
      DescribeApiDestination: (input) => this.describeApiDestination(input),
      DeleteApiDestination: (input) => this.deleteApiDestination(input),
      UpdateApiDestination: (input) => this.updateApiDestination(input),
      ListApiDestinations: (input) => this.listApiDestinations(input),
    };
  }

  handle(operation: string, input: Input): Promise<Output> | Output {
    const run = Object.hasOwn(this.operations, operation) ? this.operations[operation] : undefined;
    if (!run) throw eventBridgeError('UnknownOperationException', `The local EventBridge does not implement ${operation}.`);
    return run(input);
  }

  private arn(resource: string): string {
    return `arn:aws:events:${this.options.region}:${this.options.accountId}:${resource}`;
  }

  /** A bus by name or ARN; it must exist. */
  private bus(value: unknown): string {
    if (value !== undefined && typeof value !== 'string') throw validationError('EventBusName', 'Member must be a string');
    const name = value ? (value.startsWith('arn:') ? value.slice(value.lastIndexOf('/') + 1) : value) : 'default';
    if (!this.store.state.buses.includes(name)) throw eventBridgeError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  private rule(busValue: unknown, nameValue: unknown, field = 'Name'): Rule {
    const bus = this.bus(busValue);
    const name = requiredName(nameValue, field);
    const rule = this.store.state.rules[ruleKey(bus, name)];
    if (!rule) throw eventBridgeError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
  }

  private putEvents(input: Input): Output {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
      throw validationError('Entries', 'Member must have length less than or equal to 10 and greater than or equal to 1');
    }
    let failed = 0;
    const results = entries.map((entry: Input) => {
      const result = this.putEvent(entry ?? {});
      if (!result.EventId) failed++;
      return result;
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  private putEvent(entry: Input): Output {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
      }
    }
    if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES) return { ErrorCode: 'EntrySizeExceeded', ErrorMessage: 'Entry size exceeded.' };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    let bus: string;
    try {
      bus = this.bus(entry.EventBusName);
    } catch (error) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: (error as Error).message };
    }
    const resources = Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [];
    const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date();
    const id = randomUUID();
    // The event as rules and targets see it.
    const event: Record<string, unknown> = {
      version: '0',
      id,
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.options.accountId,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region,
      resources,
      detail,
    };
    const matched = Object.values(this.store.state.rules).filter(
      (rule) =>
        rule.EventBusName === bus && rule.State === 'ENABLED' && rule.EventPattern && matchesPattern(parseEventPattern(rule.EventPattern), event),
    );
    const subject = (detail as { subject?: unknown }).subject;
    appendPrivateLine(
      this.options.eventsLog,
      `${JSON.stringify({
        time: new Date().toISOString(),
        kind: 'put',
        id,
        bus,
        source: entry.Source,
        'detail-type': entry.DetailType,
        ...(typeof subject === 'string' ? { subject } : {}),
        resources,
        detailId: (detail as { id?: unknown }).id,
        rules: matched.map((rule) => rule.Name),
      })}\n`,
    );
    for (const rule of matched) {
      for (const target of this.store.state.targets[ruleKey(bus, rule.Name)] ?? []) {
        const destination = Object.values(this.store.state.apiDestinations).find((d) => d.ApiDestinationArn === target.Arn);
        const connection = destination && Object.values(this.store.state.connections).find((c) => c.ConnectionArn === destination.ConnectionArn);
        this.deliverer.deliver({ event, rule, target, destination, connection });
      }
    }
    return { EventId: id };
  }

  private async putRule(input: Input): Promise<Output> {
    const name = requiredName(input.Name, 'Name');
    const bus = this.bus(input.EventBusName);
    const pattern = optionalString(input.EventPattern, 'EventPattern');
    const schedule = optionalString(input.ScheduleExpression, 'ScheduleExpression');
    if (pattern === undefined && schedule === undefined) {
      throw eventBridgeError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (pattern !== undefined) parseEventPattern(pattern);
    if (schedule !== undefined) {
      if (bus !== 'default') throw eventBridgeError('ValidationException', 'ScheduleExpression is supported only on the default event bus.');
      if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(schedule)) {
        throw eventBridgeError('ValidationException', 'Parameter ScheduleExpression is not valid.');
      }
    }
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validationError('State', 'Member must satisfy enum value set: [ENABLED, DISABLED]');
    const arn = this.arn(bus === 'default' ? `rule/${name}` : `rule/${bus}/${name}`);
    const rule: Rule = {
      Name: name,
      Arn: arn,
      EventBusName: bus,
      ...(pattern !== undefined ? { EventPattern: pattern } : {}),
      ...(schedule !== undefined ? { ScheduleExpression: schedule } : {}),
      State: state,
      ...(typeof input.Description === 'string' ? { Description: input.Description } : {}),
      ...(typeof input.RoleArn === 'string' ? { RoleArn: input.RoleArn } : {}),
    };
    this.store.state.rules[ruleKey(bus, name)] = rule;
    await this.store.save();
    return { RuleArn: arn };
  }

  private async deleteRule(input: Input): Promise<Output> {
    const bus = this.bus(input.EventBusName);
    const name = requiredName(input.Name, 'Name');
    const key = ruleKey(bus, name);
    // Deleting a rule that is not there succeeds, as in EventBridge.
    if (!this.store.state.rules[key]) return {};
    if ((this.store.state.targets[key] ?? []).length > 0)
      throw eventBridgeError('ValidationException', "Rule can't be deleted since it has targets.");
    delete this.store.state.rules[key];
    delete this.store.state.targets[key];
    await this.store.save();
    return {};
  }

  private describeRule(input: Input): Output {
    const rule = this.rule(input.EventBusName, input.Name);
    return { ...rule, CreatedBy: this.options.accountId };
  }

  private listRules(input: Input): Output {
    const bus = this.bus(input.EventBusName);
    const prefix = optionalString(input.NamePrefix, 'NamePrefix') ?? '';
    const rules = Object.values(this.store.state.rules)
      .filter((rule) => rule.EventBusName === bus && rule.Name.startsWith(prefix))
      .sort((a, b) => a.Name.localeCompare(b.Name));
    return page(rules, input, 'Rules');
  }

  private async setRuleState(input: Input, state: Rule['State']): Promise<Output> {
    const rule = this.rule(input.EventBusName, input.Name);
    rule.State = state;
    await this.store.save();
    return {};
  }

  private async putTargets(input: Input): Promise<Output> {
    const rule = this.rule(input.EventBusName, input.Rule, 'Rule');
    const targets = input.Targets;
    if (!Array.isArray(targets) || targets.length === 0 || targets.length > 10) {
      throw validationError('Targets', 'Member must have length less than or equal to 10 and greater than or equal to 1');
    }
    const key = ruleKey(rule.EventBusName, rule.Name);
    const current = [...(this.store.state.targets[key] ?? [])];
    for (const given of targets as Input[]) {
      const target = checkedTarget(given ?? {});
      const index = current.findIndex((t) => t.Id === target.Id);
      if (index >= 0) current[index] = target;
      else current.push(target);
    }
    if (current.length > MAX_TARGETS_PER_RULE)
      throw eventBridgeError('LimitExceededException', 'The requested resource exceeds the maximum number allowed.');
    this.store.state.targets[key] = current;
    await this.store.save();
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private async removeTargets(input: Input): Promise<Output> {
    const rule = this.rule(input.EventBusName, input.Rule, 'Rule');
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100 || ids.some((id) => typeof id !== 'string')) {
      throw validationError('Ids', 'Member must have length less than or equal to 100 and greater than or equal to 1');
    }
    const key = ruleKey(rule.EventBusName, rule.Name);
    this.store.state.targets[key] = (this.store.state.targets[key] ?? []).filter((t) => !ids.includes(t.Id));
    await this.store.save();
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargetsByRule(input: Input): Output {
    const rule = this.rule(input.EventBusName, input.Rule, 'Rule');
    return page(this.store.state.targets[ruleKey(rule.EventBusName, rule.Name)] ?? [], input, 'Targets');
  }

  private async createConnection(input: Input): Promise<Output> {
    const name = requiredName(input.Name, 'Name');
    const type = input.AuthorizationType;
    if (typeof type !== 'string' || !AUTHORIZATION_TYPES.has(type)) {
      throw validationError('AuthorizationType', 'Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]');
    }
    // The same checks as an update's (an OAuth connection is refused here too, as the README says).
    const authParameters = checkedAuthParameters(
      type as Connection['AuthorizationType'],
      (input.AuthParameters ?? {}) as Connection['AuthParameters'],
    );
    if (this.store.state.connections[name]) throw eventBridgeError('ResourceAlreadyExistsException', `Connection ${name} already exists.`);
    const now = Math.floor(Date.now() / 1000);
    const connection: Connection = {
      Name: name,
      ConnectionArn: this.arn(`connection/${name}/${randomUUID()}`),
      ...(typeof input.Description === 'string' ? { Description: input.Description } : {}),
      AuthorizationType: type as Connection['AuthorizationType'],
      AuthParameters: authParameters,
      CreationTime: now,
      LastModifiedTime: now,
    };
    this.store.state.connections[name] = connection;
    await this.store.save();
    return { ConnectionArn: connection.ConnectionArn, ConnectionState: 'AUTHORIZED', CreationTime: now, LastModifiedTime: now };
  }

  /** Changes what is given; parameters not given keep their values, as UpdateConnection does. */
  private async updateConnection(input: Input): Promise<Output> {
    const connection = this.connection(input.Name);
    const type = (input.AuthorizationType ?? connection.AuthorizationType) as Connection['AuthorizationType'];
    if (!AUTHORIZATION_TYPES.has(type)) {
      throw validationError('AuthorizationType', 'Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]');
    }
    const given = (input.AuthParameters ?? {}) as Partial<Connection['AuthParameters']>;
    const merged = {
      ...(type === connection.AuthorizationType
        ? connection.AuthParameters
        : { InvocationHttpParameters: connection.AuthParameters.InvocationHttpParameters }),
      ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)),
    } as Connection['AuthParameters'];
    connection.AuthorizationType = type;
    connection.AuthParameters = checkedAuthParameters(type, merged);
    if (typeof input.Description === 'string') connection.Description = input.Description;
    connection.LastModifiedTime = Math.floor(Date.now() / 1000);
    await this.store.save();
    return {
      ConnectionArn: connection.ConnectionArn,
      ConnectionState: 'AUTHORIZED',
      CreationTime: connection.CreationTime,
      LastModifiedTime: connection.LastModifiedTime,
      LastAuthorizedTime: connection.LastModifiedTime,
    };
  }

  private listConnections(input: Input): Output {
    const prefix = optionalString(input.NamePrefix, 'NamePrefix') ?? '';
    const connections = Object.values(this.store.state.connections)
      .filter((c) => c.Name.startsWith(prefix))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map((c) => ({
        ConnectionArn: c.ConnectionArn,
        Name: c.Name,
        ConnectionState: 'AUTHORIZED',
        AuthorizationType: c.AuthorizationType,
        CreationTime: c.CreationTime,
        LastModifiedTime: c.LastModifiedTime,
        LastAuthorizedTime: c.LastModifiedTime,
      }));
    return page(connections, input, 'Connections');
  }

  private connection(value: unknown): Connection {
    const name = requiredName(value, 'Name');
    const connection = this.store.state.connections[name];
    if (!connection)
      throw eventBridgeError('ResourceNotFoundException', `Failed to describe the connection(s). Connection '${name}' does not exist.`);
    return connection;
  }

  /** As EventBridge describes a connection: secret values (the API key, the password, secret parameters) are never answered. */
  private describeConnection(input: Input): Output {
    const connection = this.connection(input.Name);
    const auth = connection.AuthParameters;
    const visible = (parameters: Parameter[] | undefined) =>
      parameters?.map(({ Key, Value, IsValueSecret }) => (IsValueSecret ? { Key, IsValueSecret } : { Key, Value, IsValueSecret: false }));
    const invocation = auth.InvocationHttpParameters;
    return {
      ConnectionArn: connection.ConnectionArn,
      Name: connection.Name,
      ...(connection.Description !== undefined ? { Description: connection.Description } : {}),
      ConnectionState: 'AUTHORIZED',
      AuthorizationType: connection.AuthorizationType,
      SecretArn: `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:events!connection/${connection.Name}`,
      AuthParameters: {
        ...(auth.ApiKeyAuthParameters ? { ApiKeyAuthParameters: { ApiKeyName: auth.ApiKeyAuthParameters.ApiKeyName } } : {}),
        ...(auth.BasicAuthParameters ? { BasicAuthParameters: { Username: auth.BasicAuthParameters.Username } } : {}),
        ...(invocation
          ? {
              InvocationHttpParameters: {
                ...(invocation.HeaderParameters ? { HeaderParameters: visible(invocation.HeaderParameters) } : {}),
                ...(invocation.QueryStringParameters ? { QueryStringParameters: visible(invocation.QueryStringParameters) } : {}),
                ...(invocation.BodyParameters ? { BodyParameters: visible(invocation.BodyParameters) } : {}),
              },
            }
          : {}),
      },
      CreationTime: connection.CreationTime,
      LastModifiedTime: connection.LastModifiedTime,
      LastAuthorizedTime: connection.CreationTime,
    };
  }

  private async deleteConnection(input: Input): Promise<Output> {
    const connection = this.connection(input.Name);
    delete this.store.state.connections[connection.Name];
    await this.store.save();
    return {
      ConnectionArn: connection.ConnectionArn,
      ConnectionState: 'DELETING',
      CreationTime: connection.CreationTime,
      LastModifiedTime: Math.floor(Date.now() / 1000),
      LastAuthorizedTime: connection.CreationTime,
    };
  }

  /** The settings of a destination, checked as CreateApiDestination and UpdateApiDestination check them. */
  private destinationSettings(
    input: Input,
  ): Pick<ApiDestination, 'ConnectionArn' | 'InvocationEndpoint' | 'HttpMethod' | 'InvocationRateLimitPerSecond'> {
    const connectionArn = input.ConnectionArn;
    if (typeof connectionArn !== 'string') throw validationError('ConnectionArn', 'Member must not be null');
    const endpoint = input.InvocationEndpoint;
    if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > 2048)
      throw validationError('InvocationEndpoint', 'Member must not be null');
    // http is accepted here (AWS requires https): local test receivers rarely have certificates.
    if (!/^https?:\/\/[^\s]+$/.test(endpoint)) throw eventBridgeError('ValidationException', `InvocationEndpoint ${endpoint} is not an http(s) URL.`);
    const method = input.HttpMethod;
    if (typeof method !== 'string' || !HTTP_METHODS.has(method)) {
      throw validationError('HttpMethod', 'Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]');
    }
    const rate = input.InvocationRateLimitPerSecond ?? 300;
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1) {
      throw validationError('InvocationRateLimitPerSecond', 'Member must have value greater than or equal to 1');
    }
    if (!Object.values(this.store.state.connections).some((c) => c.ConnectionArn === connectionArn)) {
      throw eventBridgeError('ResourceNotFoundException', `Connection '${connectionArn}' does not exist.`);
    }
    return { ConnectionArn: connectionArn, InvocationEndpoint: endpoint, HttpMethod: method, InvocationRateLimitPerSecond: rate };
  }

  private async createApiDestination(input: Input): Promise<Output> {
    const name = requiredName(input.Name, 'Name');
    const settings = this.destinationSettings(input);
    if (this.store.state.apiDestinations[name])
      throw eventBridgeError('ResourceAlreadyExistsException', `An api-destination '${name}' already exists.`);
    const now = Math.floor(Date.now() / 1000);
    const destination: ApiDestination = {
      Name: name,
      ApiDestinationArn: this.arn(`api-destination/${name}/${randomUUID()}`),
      ...(typeof input.Description === 'string' ? { Description: input.Description } : {}),
      ...settings,
      CreationTime: now,
      LastModifiedTime: now,
    };
    this.store.state.apiDestinations[name] = destination;
    await this.store.save();
    return { ApiDestinationArn: destination.ApiDestinationArn, ApiDestinationState: 'ACTIVE', CreationTime: now, LastModifiedTime: now };
  }

  /** Changes what is given; the rest keeps its values, as UpdateApiDestination does. */
  private async updateApiDestination(input: Input): Promise<Output> {
    const destination = this.apiDestination(input.Name);
    const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined && value !== null));
    Object.assign(destination, this.destinationSettings({ ...destination, ...given }));
    if (typeof input.Description === 'string') destination.Description = input.Description;
    destination.LastModifiedTime = Math.floor(Date.now() / 1000);
    await this.store.save();
    return {
      ApiDestinationArn: destination.ApiDestinationArn,
      ApiDestinationState: 'ACTIVE',
      CreationTime: destination.CreationTime,
      LastModifiedTime: destination.LastModifiedTime,
    };
  }

  private listApiDestinations(input: Input): Output {
    const prefix = optionalString(input.NamePrefix, 'NamePrefix') ?? '';
    const connectionArn = optionalString(input.ConnectionArn, 'ConnectionArn');
    const destinations = Object.values(this.store.state.apiDestinations)
      .filter((d) => d.Name.startsWith(prefix) && (connectionArn === undefined || d.ConnectionArn === connectionArn))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map(({ Description: _description, ...destination }) => ({ ...destination, ApiDestinationState: 'ACTIVE' }));
    return page(destinations, input, 'ApiDestinations');
  }

  private apiDestination(value: unknown): ApiDestination {
    const name = requiredName(value, 'Name');
    const destination = this.store.state.apiDestinations[name];
    if (!destination)
      throw eventBridgeError('ResourceNotFoundException', `Failed to describe the api-destination(s). An api-destination '${name}' does not exist.`);
    return destination;
  }

  private describeApiDestination(input: Input): Output {
    return { ...this.apiDestination(input.Name), ApiDestinationState: 'ACTIVE' };
  }

  private async deleteApiDestination(input: Input): Promise<Output> {
    const destination = this.apiDestination(input.Name);
    delete this.store.state.apiDestinations[destination.Name];
    await this.store.save();
    return {};
  }
}

function requiredName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw validationError(field, 'Member must not be null');
  if (!NAME.test(value)) throw validationError(field, 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+');
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationError(field, 'Member must be a string');
  return value;
}

function checkedTarget(given: Input): Target {
  const id = given.Id;
  if (typeof id !== 'string' || !TARGET_ID.test(id))
    throw validationError('Targets.member.Id', 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+');
  if (typeof given.Arn !== 'string' || given.Arn.length === 0 || given.Arn.length > 1600)
    throw validationError('Targets.member.Arn', 'Member must not be null');
  const target = JSON.parse(JSON.stringify(given)) as Target;
  checkTargetInput(target, id);
  const retry = target.RetryPolicy;
  if (
    retry?.MaximumRetryAttempts !== undefined &&
    (!Number.isInteger(retry.MaximumRetryAttempts) || retry.MaximumRetryAttempts < 0 || retry.MaximumRetryAttempts > 185)
  ) {
    throw validationError('Targets.member.RetryPolicy.MaximumRetryAttempts', 'Member must have value less than or equal to 185');
  }
  if (
    retry?.MaximumEventAgeInSeconds !== undefined &&
    (!Number.isInteger(retry.MaximumEventAgeInSeconds) || retry.MaximumEventAgeInSeconds < 60 || retry.MaximumEventAgeInSeconds > 86_400)
  ) {
    throw validationError('Targets.member.RetryPolicy.MaximumEventAgeInSeconds', 'Member must have value greater than or equal to 60');
  }
  return target;
}

function checkedAuthParameters(type: Connection['AuthorizationType'], auth: Connection['AuthParameters']): Connection['AuthParameters'] {
  if (type === 'OAUTH_CLIENT_CREDENTIALS') {
    throw eventBridgeError('ValidationException', 'The local EventBridge supports BASIC and API_KEY connections only.');
  }
  if (
    type === 'API_KEY' &&
    (typeof auth.ApiKeyAuthParameters?.ApiKeyName !== 'string' || typeof auth.ApiKeyAuthParameters.ApiKeyValue !== 'string')
  ) {
    throw eventBridgeError(
      'ValidationException',
      'ApiKeyAuthParameters with ApiKeyName and ApiKeyValue are required for the API_KEY authorization type.',
    );
  }
  if (type === 'BASIC' && (typeof auth.BasicAuthParameters?.Username !== 'string' || typeof auth.BasicAuthParameters.Password !== 'string')) {
    throw eventBridgeError('ValidationException', 'BasicAuthParameters with Username and Password are required for the BASIC authorization type.');
  }
  return {
    ...(type === 'API_KEY' ? { ApiKeyAuthParameters: auth.ApiKeyAuthParameters } : {}),
    ...(type === 'BASIC' ? { BasicAuthParameters: auth.BasicAuthParameters } : {}),
    ...(auth.InvocationHttpParameters ? { InvocationHttpParameters: checkedInvocationParameters(auth.InvocationHttpParameters) } : {}),
  };
}

function checkedInvocationParameters(parameters: NonNullable<Connection['AuthParameters']['InvocationHttpParameters']>) {
  for (const list of [parameters.HeaderParameters, parameters.QueryStringParameters, parameters.BodyParameters]) {
    for (const parameter of list ?? []) {
      if (typeof parameter?.Key !== 'string' || typeof parameter.Value !== 'string') {
        throw eventBridgeError('ValidationException', 'Each invocation parameter needs a Key and a Value.');
      }
    }
  }
  return parameters;
}

/** NextToken is the index of the next item, as an opaque string. */
function page<T>(items: readonly T[], input: Input, member: string): Output {
  const limit = input.Limit === undefined ? 100 : input.Limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw validationError('Limit', 'Member must have value less than or equal to 100');
  }
  const start = typeof input.NextToken === 'string' ? Number.parseInt(Buffer.from(input.NextToken, 'base64url').toString('utf8'), 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw eventBridgeError('ValidationException', 'The NextToken is not valid.');
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
  return { [member]: slice, ...(next ? { NextToken: next } : {}) };
}
