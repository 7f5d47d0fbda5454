import { describe, expect, it } from 'vitest';
import { matchesPattern, parseEventPattern } from '../../dev/eventbridge/pattern.ts';
import { checkTargetInput, targetBody } from '../../dev/eventbridge/transform.ts';

/**
 * The local EventBridge's event patterns and input transformers, as EventBridge defines them: what
 * the rules Coffer's subscriptions make need to match, and the bodies their targets are sent.
 */
const event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Microsoft.KeyVault.SecretNewVersionCreated',
  source: 'coffer.keyvault',
  account: '000000000000',
  time: '2026-12-02T12:00:00Z',
  region: 'us-east-1',
  resources: ['/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/payments'],
  detail: {
    id: 'e1',
    subject: 'DB-Password',
    eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
    data: { Version: 'v1', EXP: 1700000000 },
    tags: ['a', 'b'],
  },
};
const matches = (pattern: object) => matchesPattern(parseEventPattern(JSON.stringify(pattern)), event);

describe('event patterns', () => {
  it('match exact values on source, detail-type, resources and detail fields; arrays in the event match on any element', () => {
    expect(matches({ source: ['coffer.keyvault'], 'detail-type': ['x', 'Microsoft.KeyVault.SecretNewVersionCreated'] })).toBe(true);
    expect(matches({ resources: [event.resources[0]] })).toBe(true);
    expect(matches({ detail: { data: { EXP: [1700000000] } } })).toBe(true);
    expect(matches({ detail: { tags: ['b'] } })).toBe(true);
    expect(matches({ source: ['other'] })).toBe(false);
    expect(matches({ detail: { data: { EXP: ['1700000000'] } } })).toBe(false);
    expect(matches({ detail: { missing: ['x'] } })).toBe(false);
    expect(matches({ source: ['coffer.keyvault'], detail: { subject: ['nope'] } })).toBe(false);
  });

  it('match prefix, suffix and equals-ignore-case, and prefix or suffix ignoring case', () => {
    expect(matches({ detail: { subject: [{ prefix: 'DB-' }] } })).toBe(true);
    expect(matches({ detail: { subject: [{ prefix: 'db-' }] } })).toBe(false);
    expect(matches({ detail: { subject: [{ prefix: { 'equals-ignore-case': 'db-' } }] } })).toBe(true);
    expect(matches({ detail: { subject: [{ suffix: 'Password' }] } })).toBe(true);
    expect(matches({ detail: { subject: [{ suffix: { 'equals-ignore-case': 'PASSWORD' } }] } })).toBe(true);
    expect(matches({ detail: { subject: [{ suffix: 'password' }] } })).toBe(false);
    expect(matches({ detail: { subject: [{ 'equals-ignore-case': 'db-password' }] } })).toBe(true);
    expect(matches({ detail: { subject: [{ 'equals-ignore-case': 'db-pass' }] } })).toBe(false);
    expect(matches({ detail: { data: { EXP: [{ prefix: '17' }] } } })).toBe(false);
  });

  it('refuse what they cannot match as AWS does, with InvalidEventPatternException', () => {
    for (const text of [
      'not json',
      '[]',
      '{}',
      '{"source": "coffer.keyvault"}',
      '{"source": []}',
      '{"detail": {}}',
      '{"source": [{"anything-but": "x"}]}',
      '{"detail": {"n": [{"numeric": [">", 0]}]}}',
      '{"detail": {"n": [{"exists": true}]}}',
      '{"source": [{"wildcard": "c*"}]}',
      '{"source": [{"prefix": "a", "suffix": "b"}]}',
      '{"source": [{"prefix": 1}]}',
      '{"$or": [{"source": ["a"]}, {"source": ["b"]}]}',
    ]) {
      expect(() => parseEventPattern(text), text).toThrow(expect.objectContaining({ type: 'InvalidEventPatternException' }));
    }
  });
});

describe('target input', () => {
  const context = { event, ruleArn: 'arn:aws:events:us-east-1:000000000000:rule/bus/r', ruleName: 'r' };

  it('is the whole event by default, Input as given, or the part InputPath selects', () => {
    expect(JSON.parse(targetBody({}, context))).toEqual(event);
    expect(targetBody({ Input: '{"fixed": 1}' }, context)).toBe('{"fixed": 1}');
    expect(JSON.parse(targetBody({ InputPath: '$.detail.data' }, context))).toEqual(event.detail.data);
    expect(targetBody({ InputPath: '$.detail.tags[1]' }, context)).toBe('"b"');
  });

  it('substitutes values as JSON outside strings and as text inside them', () => {
    const body = (template: string, paths: Record<string, string>) =>
      targetBody({ InputTransformer: { InputPathsMap: paths, InputTemplate: template } }, context);
    expect(JSON.parse(body('[<detail>]', { detail: '$.detail' }))).toEqual([event.detail]);
    expect(
      JSON.parse(
        body('{"name": <subject>, "exp": <exp>, "quoted": "<subject> until <exp>"}', { subject: '$.detail.subject', exp: '$.detail.data.EXP' }),
      ),
    ).toEqual({
      name: 'DB-Password',
      exp: 1700000000,
      quoted: 'DB-Password until 1700000000',
    });
    expect(JSON.parse(body('{"missing": <m>, "inside": "[<m>]"}', { m: '$.detail.nothing' }))).toEqual({ missing: null, inside: '[]' });
    expect(JSON.parse(body('{"rule": "<aws.events.rule-name>", "event": <aws.events.event>}', {}))).toEqual({ rule: 'r', event });
  });

  it('escapes a value inside a string, so a subject cannot break out of it', () => {
    const sneaky = { ...context, event: { ...event, detail: { subject: 'a", "admin": true, "x": "' } } };
    const out = targetBody({ InputTransformer: { InputPathsMap: { s: '$.detail.subject' }, InputTemplate: '{"subject": "<s>"}' } }, sneaky);
    expect(JSON.parse(out)).toEqual({ subject: 'a", "admin": true, "x": "' });
  });

  it('is checked as PutTargets checks it', () => {
    expect(() => checkTargetInput({ Input: '{}', InputPath: '$' }, 't')).toThrow(/only one of/);
    expect(() => checkTargetInput({ Input: '{' }, 't')).toThrow(/not valid JSON/);
    expect(() => checkTargetInput({ InputPath: 'detail' }, 't')).toThrow(/JSON path/);
    expect(() => checkTargetInput({ InputTransformer: { InputPathsMap: { a: '$.detail' }, InputTemplate: '<b>' } }, 't')).toThrow(/does not define/);
    expect(() => checkTargetInput({ InputTransformer: { InputPathsMap: { 'aws.x': '$' }, InputTemplate: '<aws.x>' } }, 't')).toThrow(/variable name/);
    expect(() => checkTargetInput({ InputTransformer: { InputPathsMap: { a: '$.detail' }, InputTemplate: '[<a>]' } }, 't')).not.toThrow();
  });
});
