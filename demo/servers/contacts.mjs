// Demo "google-workspace" MCP server: looks up contacts by phone number.
import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { result, serve, toolError } from './serve.mjs';

const contacts = new Map([
  ['+15551234567', { name: 'Ada Lovelace', phone: '+15551234567', email: 'ada@example.com', opted_in: true }],
  [
    '+15559876543',
    { name: 'Grace Hopper', phone: '+15559876543', email: 'grace@example.com', opted_in: false },
  ],
  [
    '+15550000000',
    { name: 'Broken Number', phone: '+15550000000', email: 'nobody@example.com', opted_in: true },
  ],
]);

serve('contacts', () => {
  const server = new McpServer({ name: 'demo-contacts', version: '1.0.0' });
  server.registerTool(
    'get_contact',
    {
      description: 'Find a contact by phone number',
      inputSchema: z.object({ phone: z.string() }),
    },
    async ({ phone }) => {
      const contact = contacts.get(phone);
      return contact ? result(contact) : toolError(`no contact with phone ${phone}`);
    },
  );
  return server;
});
