/**
 * Reads Server-Sent Events from a byte stream (the Streamable HTTP response
 * of a `tools/call`), yielding each event's data as it completes.
 */

/** One event: its `event:` name (default `message`) and joined `data:` lines. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Parses an SSE stream incrementally; tolerant of CRLF and comments. */
export async function* readSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    // A lone CR at the end may be the first half of a CRLF split across chunks: wait for more.
    while (newline >= 0 && !(newline === buffer.length - 1 && buffer.endsWith('\r'))) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
      }
      newline = buffer.search(/\r\n|\r|\n/);
    }
  }
  // As the SSE standard says, an event cut off by the end of the stream is not dispatched.
}
