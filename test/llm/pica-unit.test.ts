import { describe, expect, it } from 'vitest';
import type { PromptResult } from '../../src/core/artifacts.js';
import { chooseAnswer, imageContext, processAnswer, scoreTokens } from '../../src/llm/pica.js';
import { renderTemplate } from '../../src/llm/template.js';
import { applyStop } from '../../src/llm/local.js';
import { fromOpenAIBody, toOpenAIBody } from '../../src/llm/openai-wire.js';
import { MalformedResponseError } from '../../src/llm/types.js';

const pr = (index: number, answer: string, logprob: number | null): PromptResult => ({ index, prompt: '', completion: answer, answer, logprob });

describe('PICa answer processing (process_answer)', () => {
  it('drops . and , lowercases, removes a/an/the/to and empty words', () => {
    expect(processAnswer(' The Dog.')).toBe('dog');
    expect(processAnswer(' a  pony, tail')).toBe('pony tail');
    expect(processAnswer('to the Moon')).toBe('moon');
    expect(processAnswer(' 3.5')).toBe('35');
    expect(processAnswer(' Another')).toBe('another');
  });
});

describe('PICa scoring', () => {
  it('sums token logprobs up to the first newline token', () => {
    expect(scoreTokens([{ token: ' dog', logprob: -0.25 }, { token: 's', logprob: -0.5 }, { token: '\n', logprob: -3 }, { token: 'x', logprob: -9 }])).toBe(-0.75);
    expect(scoreTokens(null)).toBeNull();
  });
  it('picks the highest summed logprob, first on ties', () => {
    const c = chooseAnswer([pr(0, 'cat', -1), pr(1, 'dog', -0.5), pr(2, 'cat', -0.7), pr(3, 'bird', -0.5)]);
    expect(c).toEqual({ answer: 'dog', score: -0.5, method: 'logprob', index: 1 });
  });
  it('falls back to majority vote without logprobs', () => {
    const c = chooseAnswer([pr(0, 'dog', null), pr(1, 'cat', null), pr(2, 'cat', null), pr(3, 'bird', null)]);
    expect(c.method).toBe('vote');
    expect(c.answer).toBe('cat');
    expect(c.score).toBe(0.5);
  });
});

describe('image context', () => {
  it('is the caption, or `{caption}. {tag1, tag2}` with tags', () => {
    const caps = [{ text: 'a cat on a mat', source: 'f' }];
    expect(imageContext(caps, undefined)).toBe('a cat on a mat');
    expect(imageContext(caps, [{ label: 'cat', conf: 1 }, { label: 'mat', conf: 1 }])).toBe('a cat on a mat. cat, mat');
    expect(imageContext(caps, [{ label: 'cat', conf: 1 }], 'revive')).toBe('a cat on a mat + cat');
    expect(() => imageContext([], undefined)).toThrow(/no caption/);
  });
});

describe('templates', () => {
  it('renders sections and variables verbatim', () => {
    expect(renderTemplate('H\n{{#xs}}<{{a}}>{{/xs}}Q: {{q}}', { xs: [{ a: '1' }, { a: '{{q}}' }], q: 'why?' })).toBe('H\n<1><{{q}}>Q: why?');
    expect(() => renderTemplate('{{missing}}', {})).toThrow(/missing/);
  });
});

describe('stop sequences (embedded backend)', () => {
  it('cuts text and tokens at the first stop sequence', () => {
    const r = applyStop([' dog', 's\nmore', ' x'], [-1, -2, -3], ['\n']);
    expect(r.text).toBe(' dogs');
    expect(r.tokens).toEqual([{ token: ' dog', logprob: -1 }, { token: 's', logprob: -2 }]);
    expect(r.stopped).toBe(true);
    expect(applyStop(['a', 'b'], [-1, -1], ['\n']).stopped).toBe(false);
  });
});

describe('OpenAI wire format', () => {
  it('builds PICa completion bodies and chat bodies', () => {
    const r = { model: 'm', prompt: 'p', maxTokens: 5, temperature: 0, logprobs: true, stop: ['\n'] };
    expect(toOpenAIBody(r)).toEqual({ url: '/v1/completions', body: { model: 'm', prompt: 'p', max_tokens: 5, temperature: 0, logprobs: 1, stop: ['\n'] } });
    const c = toOpenAIBody({ model: 'm', messages: [{ role: 'user', content: 'p' }], maxTokens: 5, temperature: 0, logprobs: true });
    expect(c.url).toBe('/v1/chat/completions');
    expect(c.body.logprobs).toBe(true);
  });
  it('rejects malformed responses', () => {
    expect(() => fromOpenAIBody({ choices: [] }, false, 'm')).toThrow(MalformedResponseError);
    expect(() => fromOpenAIBody({ choices: [{ text: 3 }] }, false, 'm')).toThrow(/text is not a string/);
    expect(() => fromOpenAIBody({ choices: [{ text: 'a', logprobs: { tokens: ['a', 'b'], token_logprobs: [-1] } }] }, false, 'm')).toThrow(/2 tokens but 1/);
    expect(() => fromOpenAIBody('<html>', false, 'm')).toThrow(/not a JSON object/);
    expect(fromOpenAIBody({ choices: [{ text: ' a' }] }, false, 'm')).toMatchObject({ text: ' a', tokens: null, model: 'm' });
  });
});
