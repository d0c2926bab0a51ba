import { describe, expect, it } from 'vitest';
import { readEventStream, type ServerSentEvent } from './event-stream.js';

/** A body that delivers `chunks` one by one, as a network might cut them. */
function body(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function read(chunks: (string | Uint8Array)[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  await readEventStream(body(chunks), (event) => events.push(event));
  return events;
}

describe('readEventStream', () => {
  it('reads events as the server writes them, skipping comments', async () => {
    expect(
      await read([': connected\n\n', 'event: step_started\ndata: {"step":"a"}\n\n', ': keep-alive\n\n']),
    ).toEqual([{ event: 'step_started', data: '{"step":"a"}' }]);
  });

  it('puts events cut anywhere by the network back together, multi-byte characters included', async () => {
    const text =
      'event: step_completed\ndata: {"result":"café ✓"}\n\nevent: workflow_completed\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    // Cuts inside `é` (2 bytes), inside `✓` (3 bytes), inside a field name, between `\n` and `\n`.
    const e = bytes.indexOf(0xc3);
    const check = bytes.indexOf(0xe2);
    const blank = text.indexOf('\n\n') + 1;
    const cuts = [3, blank, e + 1, check + 1, check + 2, bytes.length - 1].sort((a, b) => a - b);
    const chunks = cuts.map((end, i) => bytes.slice(i === 0 ? 0 : cuts[i - 1], end));
    chunks.push(bytes.slice(cuts.at(-1)));
    expect(await read(chunks)).toEqual([
      { event: 'step_completed', data: '{"result":"café ✓"}' },
      { event: 'workflow_completed', data: '{}' },
    ]);
  });

  it('joins data lines, takes CRLF line ends, and ends an event left open by the end of the stream', async () => {
    expect(await read(['data: one\r\ndata: two\r\n\r\n', 'event: last\ndata: x'])).toEqual([
      { event: 'message', data: 'one\ntwo' },
      { event: 'last', data: 'x' },
    ]);
  });
});
