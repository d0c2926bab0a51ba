// Demo "main-platform" MCP server: coaches, subscriptions and session bookings.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { result, serve, toolError } from './serve.mjs';

const coaches = new Map([
  ['coach-123', { id: 'coach-123', name: 'Coach Carter', phone: '+15550001111', sport: 'basketball' }],
  ['coach-456', { id: 'coach-456', name: 'Coach Taylor', phone: '+15550002222', sport: 'football' }],
]);
const premium = new Set(['user-1']);
const bookings = new Map();

serve('coaching', () => {
  const server = new McpServer({ name: 'demo-coaching', version: '1.0.0' });
  server.registerTool(
    'get_coach',
    { description: 'A coach by id', inputSchema: z.object({ coach_id: z.string() }) },
    async ({ coach_id }) => {
      const coach = coaches.get(coach_id);
      return coach ? result(coach) : toolError(`no coach ${coach_id}`);
    },
  );
  server.registerTool(
    'check_subscription',
    { description: "A user's subscription", inputSchema: z.object({ user_id: z.string() }) },
    async ({ user_id }) => result({ user_id, is_premium: premium.has(user_id) }),
  );
  server.registerTool(
    'enable_feature',
    {
      description: 'Turns a premium feature on',
      inputSchema: z.object({ user_id: z.string(), feature: z.string() }),
    },
    async ({ user_id, feature }) => result({ user_id, feature, enabled: true }),
  );
  server.registerTool(
    'book_session',
    {
      description: 'Books a coaching session',
      inputSchema: z.object({ coach_id: z.string(), user_id: z.string(), slot: z.string() }),
    },
    async (args, ctx) => {
      // The same idempotency key books once, however often the call is repeated.
      const key = ctx.mcpReq._meta?.idempotencyKey;
      const existing = [...bookings.values()].find((b) => key && b.key === key);
      if (existing) return result(existing);
      const booking = { id: `bk-${randomUUID().slice(0, 8)}`, ...args, status: 'booked', key };
      bookings.set(booking.id, booking);
      return result(booking);
    },
  );
  server.registerTool(
    'generate_plan',
    {
      description: 'Writes a training plan; takes a second per week, and stops when the call is cancelled',
      inputSchema: z.object({ user_id: z.string(), weeks: z.number().int().min(1).max(52) }),
    },
    async ({ user_id, weeks }, ctx) => {
      const signal = ctx.mcpReq.signal;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, weeks * 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      if (signal.aborted) return toolError('plan generation cancelled');
      return result({
        user_id,
        weeks,
        sessions: Array.from({ length: weeks }, (_, i) => ({
          week: i + 1,
          focus: ['endurance', 'speed', 'strength'][i % 3],
        })),
      });
    },
  );
  server.registerTool(
    'cancel_booking',
    {
      description: 'Cancels a booking (the undo of book_session)',
      inputSchema: z.object({ booking_id: z.string() }),
    },
    async ({ booking_id }) => {
      const booking = bookings.get(booking_id);
      if (booking) booking.status = 'cancelled';
      return result({ booking_id, status: 'cancelled' });
    },
  );
  return server;
});
