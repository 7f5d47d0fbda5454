/** Reading a packaged CloudFormation template in the deployment tests. */
export interface Resource {
  Type: string;
  Properties?: Record<string, any>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
}

export interface Template {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points at, if the value is one. */
export function referenced(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every identity-policy statement in the template: inline role policies and standalone policies. */
export function identityStatements(template: Template): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Role') documents.push(...list(resource.Properties?.Policies).map((p: any) => p.PolicyDocument));
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') documents.push(resource.Properties?.PolicyDocument);
    for (const document of documents) {
      for (const statement of list((document as { Statement?: Statement | Statement[] })?.Statement)) found.push({ owner: id, statement });
    }
  }
  return found;
}

/** The Lambda function a route's integration invokes. */
export function functionOfRoute(template: Template, route: Resource): string | undefined {
  const join = route.Properties?.Target?.['Fn::Join'];
  const integrationId = Array.isArray(join) ? referenced(join[1]?.[1]) : undefined;
  const integration = integrationId ? template.Resources[integrationId] : undefined;
  return referenced(integration?.Properties?.IntegrationUri);
}
