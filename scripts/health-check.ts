/**
 * `npm run health-check [url]`: asks a running server (ORCHESTRATOR_URL or
 * http://localhost:PORT) for /health, /ready and its MCPs' health, prints a
 * summary and exits 1 when the server is not ready or not reachable.
 * Sends API_KEY (or the first of API_KEYS) as bearer token when set.
 */
const base = (
  process.argv[2] ??
  process.env.ORCHESTRATOR_URL ??
  `http://localhost:${process.env.PORT ?? 3000}`
).replace(/\/$/, '');
const key = process.env.API_KEY ?? process.env.API_KEYS?.split(',')[0]?.trim();
const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

try {
  const health = await get('/health');
  const ready = await get('/ready');
  console.log(
    `${base}: live ${health.status === 200 ? 'yes' : `no (${health.status})`}, ready ${ready.status === 200 ? 'yes' : `no (${ready.status})`}`,
  );
  const mcps = await get('/mcps');
  if (mcps.status === 200) {
    for (const mcp of (
      mcps.body as {
        items: {
          name: string;
          health: { status: string; error?: string };
          circuitBreaker: { state: string };
        }[];
      }
    ).items) {
      console.log(
        `  ${mcp.name}: ${mcp.health.status}, breaker ${mcp.circuitBreaker.state}${mcp.health.error ? ` (${mcp.health.error})` : ''}`,
      );
    }
  } else {
    console.log(`  MCPs: HTTP ${mcps.status}${mcps.status === 401 ? ' (set API_KEY)' : ''}`);
  }
  process.exit(health.status === 200 && ready.status === 200 ? 0 : 1);
} catch (error) {
  console.error(`${base}: not reachable: ${(error as Error).message}`);
  process.exit(1);
}
