// `npm install` / `npm ci` hook: builds the operator console (dist/ui) where it can be built.
// Skipped, with a line saying why, where it cannot: the Docker image's production-only
// install (no vite, no ui/ sources) and Node older than Vite needs (the server itself runs
// on Node 20.18; /ui then answers 404 naming `npm run build:ui`).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
const reason = !existsSync('ui/vite.config.ts')
  ? 'no ui/ sources'
  : !existsSync('node_modules/vite')
    ? 'no vite (a production-only install)'
    : major === 20 && minor < 19
      ? `Node ${process.versions.node} (Vite needs 20.19 or newer)`
      : undefined;
if (reason) console.log(`orchestrator-mcp: operator console not built: ${reason}`);
else execSync('npm run build:ui', { stdio: 'inherit' });
