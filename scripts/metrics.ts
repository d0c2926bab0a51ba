/**
 * `npm run metrics [url]`: prints the orchestrator_* series of a running
 * server's /metrics (ORCHESTRATOR_URL or http://localhost:PORT). `--all`
 * prints every series, process metrics included.
 */
const args = process.argv.slice(2);
const all = args.includes('--all');
const base = (
  args.find((a) => !a.startsWith('--')) ??
  process.env.ORCHESTRATOR_URL ??
  `http://localhost:${process.env.PORT ?? 3000}`
).replace(/\/$/, '');
try {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  for (const line of lines) if (all || line.startsWith('orchestrator_')) console.log(line);
} catch (error) {
  console.error(`${base}/metrics: ${(error as Error).message}`);
  process.exit(1);
}
