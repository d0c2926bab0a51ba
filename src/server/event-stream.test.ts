import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventStream, listenWhileOpen, MAX_UNSENT_BYTES, openEventStream } from './event-stream.js';
import { Readiness } from './readiness.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A server with one stream route; resolves with the stream once a client opens it. */
async function streamServer(readiness = new Readiness()) {
  const app = Fastify();
  let opened!: (stream: EventStream) => void;
  const stream = new Promise<EventStream>((resolve) => {
    opened = resolve;
  });
  app.get('/stream', async (request, reply) => {
    const s = openEventStream(request, reply, readiness);
    if (s) opened(s);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  const { port } = app.server.address() as { port: number };
  return { port, stream, readiness };
}

describe('event streams', () => {
  it('ends the stream of a client that stops reading, instead of holding its events in memory', async () => {
    const { port, stream } = await streamServer();
    // A client that asks and then never reads: the socket buffers fill, then the stream's own.
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    closers.push(async () => void socket.destroy());
    socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    const s = await stream;
    const payload = { text: 'x'.repeat(64 * 1024) };
    let sent = 0;
    while (s.send('big', payload)) {
      sent += 1;
      // Past what the kernel and the limit can hold together: the stream must have given up.
      expect(sent * 64 * 1024).toBeLessThan(256 * MAX_UNSENT_BYTES);
      if (sent % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(s.ended).toBe(true);
    expect(s.send('more', payload)).toBe(false);
  });

  it('ends open streams when the server starts closing, and runs their cleanups once', async () => {
    const { port, stream, readiness } = await streamServer();
    const response = fetch(`http://127.0.0.1:${port}/stream`);
    const s = await stream;
    let cleanups = 0;
    s.onEnd(() => {
      cleanups += 1;
    });
    expect(s.send('hello', { n: 1 })).toBe(true);
    readiness.markClosing();
    expect(s.ended).toBe(true);
    s.end();
    expect(cleanups).toBe(1);
    expect(await (await response).text()).toBe(': connected\n\nevent: hello\ndata: {"n":1}\n\n');
  });

  it('lets many streams listen without a leak warning, and gives the limit back as they end', async () => {
    const emitter = new EventEmitter();
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    const streams = Array.from({ length: 25 }, () => {
      const cleanups: (() => void)[] = [];
      const stream = {
        ended: false,
        send: () => true,
        end() {
          for (const cleanup of cleanups.splice(0)) cleanup();
        },
        onEnd: (cleanup: () => void) => cleanups.push(cleanup),
      } as unknown as EventStream;
      listenWhileOpen(stream, emitter, 'step_started', () => undefined);
      return stream;
    });
    expect(emitter.listenerCount('step_started')).toBe(25);
    for (const stream of streams) stream.end();
    expect(emitter.listenerCount('step_started')).toBe(0);
    expect(emitter.getMaxListeners()).toBe(10);
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });
});
