import { describe, expect, it } from 'vitest';
import { FREE_INPUT, fieldOfIssue, inputFormOf, inputFromValues } from './input-form.js';

describe('inputFormOf', () => {
  it('asks for required names first, typed by their schema, then the optional properties', () => {
    const form = inputFormOf({
      type: 'object',
      required: ['user_id', 'weeks'],
      properties: {
        note: { type: 'string', maxLength: 480, description: 'To the athlete' },
        weeks: { type: 'integer', minimum: 1, maximum: 52 },
        level: { enum: ['easy', 'hard', 3], default: 'hard' },
        premium: { type: 'boolean' },
        tags: { type: 'array' },
      },
    });
    expect(form.fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['user_id', 'text', true],
      ['weeks', 'integer', true],
      ['note', 'multiline', false],
      ['level', 'choice', false],
      ['premium', 'boolean', false],
      ['tags', 'json', false],
    ]);
    expect(form.fields[1]).toMatchObject({ minimum: 1, maximum: 52 });
    expect(form.fields[2]).toMatchObject({ description: 'To the athlete' });
    // A choice's text is the index of its option.
    expect(form.fields[3]).toMatchObject({ initial: '1', options: ['easy', 'hard', 3] });
  });

  it('has no fields without an object schema: the input is then free JSON', () => {
    expect(inputFormOf(undefined).fields).toEqual([]);
    expect(inputFromValues(inputFormOf(undefined), { [FREE_INPUT]: '{"a": [1]}' })).toEqual({
      input: { a: [1] },
      issues: [],
    });
    expect(inputFromValues(inputFormOf(undefined), {})).toEqual({ input: {}, issues: [] });
    expect(inputFromValues(inputFormOf(undefined), { [FREE_INPUT]: '{' })).toEqual({
      issues: [{ path: 'input', message: 'is not valid JSON' }],
    });
  });
});

describe('inputFromValues', () => {
  const form = inputFormOf({
    required: ['phone'],
    properties: {
      weeks: { type: 'integer' },
      level: { enum: ['easy', 3] },
      premium: { type: 'boolean' },
      tags: { type: 'array' },
    },
  });

  it('types each value by its field and leaves empty ones out', () => {
    expect(
      inputFromValues(form, {
        phone: '+15551234567',
        weeks: '4',
        level: '1',
        premium: 'false',
        tags: '["a"]',
      }),
    ).toEqual({
      input: { phone: '+15551234567', weeks: 4, level: 3, premium: false, tags: ['a'] },
      issues: [],
    });
    expect(inputFromValues(form, { phone: '', weeks: '' })).toEqual({ input: {}, issues: [] });
  });

  it('names the fields whose text is not what their type needs', () => {
    expect(inputFromValues(form, { weeks: 'four', tags: '[' })).toEqual({
      issues: [
        { path: 'input.weeks', message: 'is not a number' },
        { path: 'input.tags', message: 'is not valid JSON' },
      ],
    });
  });
});

describe('fieldOfIssue', () => {
  it('finds the field a server path points into', () => {
    expect(fieldOfIssue({ path: 'input.phone', message: 'is required' })).toBe('phone');
    expect(fieldOfIssue({ path: 'input.tags[2]', message: 'x' })).toBe('tags');
    expect(fieldOfIssue({ path: 'input["first name"].x', message: 'x' })).toBe('first name');
    expect(fieldOfIssue({ path: 'input', message: 'must be object' })).toBeUndefined();
    expect(fieldOfIssue({ path: 'inputs.x', message: 'x' })).toBeUndefined();
  });
});
