/**
 * A throwaway PostgreSQL cluster for the tests: `initdb` into a temp dir and
 * `pg_ctl` on 127.0.0.1 and a free port, as the `postgres` user when the
 * tests run as root (as CI does; PostgreSQL refuses to run as root). The
 * server binaries come from Debian's postgresql package, which `.ci/run`
 * installs when missing. Failing to start is an error, never a skip.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

function run(command: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv as string[], { encoding: 'utf8' }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`))
        : resolve(stdout),
    );
  });
}

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql; .ci/run installs it)',
    );
  }
  return join(root, newest, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running cluster. */
export interface PostgresCluster {
  /** URL of the `postgres` database, for creating test databases. */
  url: string;
  stop(): Promise<void>;
}

/** Starts a cluster; resolves once it accepts connections. */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'orch-pg-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  if (process.getuid?.() === 0)
    await new Promise<void>((resolve, reject) =>
      execFile('chown', ['-R', 'postgres:postgres', dir], (e) => (e ? reject(e) : resolve())),
    );
  const port = await freePort();
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  await run(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** Creates an empty database on the cluster and returns its URL. */
export async function freshDatabase(clusterUrl: string): Promise<string> {
  const name = `test_${process.pid}_${Date.now()}_${++counter}`;
  const client = new pg.Client({ connectionString: clusterUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return clusterUrl.replace(/\/postgres$/, `/${name}`);
}
