/**
 * Reads a `text/event-stream` body. The console cannot use `EventSource`:
 * it sends no `Authorization` header, and the API wants the key there. So
 * the stream is a plain fetch, parsed here (the WHATWG format: `event:`
 * and `data:` lines ended by `\n` or `\r\n`, a blank line ends an event,
 * `:` lines are comments).
 */

/** One server-sent event. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Calls `onEvent` for each event of `body` until the stream ends. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ServerSentEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // `stream: true`: a character split between two chunks is decoded once whole.
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    // The last piece may be a line cut in two by the network: keep it for the next chunk.
    buffer = lines.pop() ?? '';
    for (const text of lines) line(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
  if (buffer) line(buffer);
  line('');
}
