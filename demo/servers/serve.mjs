// Serves a demo MCP server over stdio (default) or Streamable HTTP (`--http PORT`),
// in both protocol eras, with the official SDK (@modelcontextprotocol/server).
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

/**
 * @param {string} name for logs
 * @param {() => import('@modelcontextprotocol/server').McpServer} build a fresh server with its tools
 */
export function serve(name, build) {
  const at = process.argv.indexOf('--http');
  if (at < 0) {
    // Over stdio the client owns this process (it ends it by closing stdin or with SIGTERM). A
    // Ctrl-C in the terminal reaches the whole process group; the orchestrator still needs us
    // while it drains its executions, so SIGINT is not ours to act on.
    process.on('SIGINT', () => undefined);
    const handle = serveStdio(() => build());
    process.on('SIGTERM', () => void handle.close().then(() => process.exit(0)));
    return;
  }
  const port = Number(process.argv[at + 1] ?? process.env.PORT ?? 0);
  const handler = createMcpHandler(() => build(), { legacy: 'stateless' });
  const node = toNodeHandler(handler);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health')
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (path !== '/mcp') return void res.writeHead(404).end();
    void node(req, res);
  });
  server.listen(port, process.env.HOST ?? '0.0.0.0', () => {
    const address = server.address();
    console.error(
      `${name} MCP server on http://${process.env.HOST ?? '0.0.0.0'}:${typeof address === 'object' && address ? address.port : port}/mcp`,
    );
  });
  const stop = () => {
    void handler.close().finally(() => server.close(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** A text result carrying the same value as structuredContent. */
export function result(value) {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** A tool error the caller sees as isError. */
export function toolError(message) {
  return { content: [{ type: 'text', text: message }], isError: true };
}
