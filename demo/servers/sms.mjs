// Demo "textbee" MCP server: sends SMS. Numbers ending in 0000 fail, to show a saga rolling back.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { result, serve, toolError } from './serve.mjs';

serve('sms', () => {
  const server = new McpServer({ name: 'demo-sms', version: '1.0.0' });
  server.registerTool(
    'send',
    {
      description: 'Sends an SMS',
      inputSchema: z.object({ to: z.string(), from: z.string().optional(), message: z.string() }),
    },
    async ({ to, from, message }) => {
      if (to.endsWith('0000')) return toolError(`carrier rejected ${to}: number not in service`);
      return result({
        id: `sms-${randomUUID().slice(0, 8)}`,
        to,
        from: from ?? null,
        message,
        status: 'sent',
      });
    },
  );
  server.registerTool(
    'send_cancellation_notice',
    {
      description: 'Tells a recipient an earlier message is void (the undo of send)',
      inputSchema: z.object({ to: z.string(), message: z.string().optional() }),
    },
    async ({ to, message }) =>
      result({ to, message: message ?? 'Previous message cancelled', status: 'sent' }),
  );
  return server;
});
