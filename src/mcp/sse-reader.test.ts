import { describe, expect, it } from 'vitest';
import { readSse } from './sse-reader.js';

async function collect(chunks: string[]) {
  const out = [];
  async function* stream() {
    for (const c of chunks) yield new TextEncoder().encode(c);
  }
  for await (const e of readSse(stream())) out.push(e);
  return out;
}

describe('readSse', () => {
  it('parses events split anywhere across chunks, with CRLF, comments and multi-line data', async () => {
    const events = await collect([
      ': keep-alive\r\n\r\nevent: mess',
      'age\r\ndata: {"a":',
      '1}\r',
      '\n\r\ndata: line1\ndata: line2\n\n',
      'data: cut off at the end',
    ]);
    // The last event never ended: the SSE standard drops it.
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'message', data: 'line1\nline2' },
    ]);
  });

  it('keeps custom event names and skips events without data', async () => {
    expect(await collect(['event: ping\n\nevent: progress\ndata: 5\n\n'])).toEqual([
      { event: 'progress', data: '5' },
    ]);
  });
});
