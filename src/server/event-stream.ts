/**
 * The plumbing every server-sent event stream of the API shares: headers
 * out at once, keep-alive comments for proxies, a clean end when the client
 * goes, when the server closes, or when a client stops reading (its unread
 * events would otherwise pile up in this process's memory).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readiness } from './readiness.js';

/** Interval of keep-alive comments, ms: proxies drop idle streams. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Unsent bytes a stream may hold for a client that does not read before it
 * is ended (the client reconnects and re-reads what it missed from the API).
 */
export const MAX_UNSENT_BYTES = 1024 * 1024;

/**
 * Adds a listener for the life of a stream. Each open stream adds one per
 * event name, so the emitter's leak warning limit grows and shrinks with
 * them: ten console tabs are not a leak, a listener left behind still is.
 */
export function listenWhileOpen<T>(
  stream: EventStream,
  emitter: NodeJS.EventEmitter,
  name: string,
  listener: (payload: T) => void,
): void {
  emitter.setMaxListeners(emitter.getMaxListeners() + 1);
  emitter.on(name, listener);
  stream.onEnd(() => {
    emitter.off(name, listener);
    emitter.setMaxListeners(Math.max(10, emitter.getMaxListeners() - 1));
  });
}

/** An open event stream. */
export interface EventStream {
  /** Writes one event; `id` becomes its SSE `id:` line. False once the stream has ended. */
  send(name: string, payload: unknown, id?: number): boolean;
  end(): void;
  readonly ended: boolean;
  /** Runs when the stream ends, whoever ends it. */
  onEnd(cleanup: () => void): void;
}

/** Takes over the reply and opens a stream; undefined for HEAD (headers only). */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  readiness: Readiness,
): EventStream | undefined {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  if (request.method === 'HEAD') {
    raw.end();
    return undefined;
  }
  // Headers go out now, not with the first event: clients and proxies see the stream open at once.
  raw.write(': connected\n\n');
  const cleanups: (() => void)[] = [];
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
    raw.end();
  };
  const keepAlive = setInterval(() => !ended && raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  cleanups.push(() => clearInterval(keepAlive));
  request.raw.on('close', end);
  // The server is closing: end the stream cleanly rather than have the socket cut.
  cleanups.push(readiness.onClosing(end));
  return {
    send(name, payload, id) {
      if (ended) return false;
      if (raw.writableLength > MAX_UNSENT_BYTES) {
        end();
        // Not a graceful end: that would keep what is buffered until the client reads it.
        raw.destroy();
        return false;
      }
      const idLine = id === undefined ? '' : `id: ${id}\n`;
      raw.write(`event: ${name}\n${idLine}data: ${JSON.stringify(payload)}\n\n`);
      return true;
    },
    end,
    get ended() {
      return ended;
    },
    onEnd(cleanup) {
      if (ended) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
