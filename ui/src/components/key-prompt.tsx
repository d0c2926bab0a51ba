/**
 * Asks for an API key when the server wants one (`API_KEYS`), checks it
 * against the API, and keeps it for this tab only (api/api-key.ts).
 */
import { useState } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import { errorMessage } from '../api/api-error.js';

/** The prompt; `onAccepted` runs once the server took the key. */
export function KeyPrompt({ onAccepted }: { onAccepted(): void }) {
  const api = useApi();
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setProblem('Type the key first.');
      return;
    }
    setBusy(true);
    try {
      if (await api.acceptsKey(candidate)) {
        api.setApiKey(candidate);
        onAccepted();
        return;
      }
      setProblem('The server refused this key.');
    } catch (error) {
      setProblem(errorMessage(error));
    }
    setBusy(false);
  };

  return (
    <div class="key-prompt">
      <h1 id="page-title" tabIndex={-1}>
        API key needed
      </h1>
      <form onSubmit={submit} noValidate>
        <p id="api-key-help">
          This server requires an API key (one of its <code>API_KEYS</code>). It is kept for this browser tab
          only and sent with each request as a bearer token.
        </p>
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autoComplete="off"
            // biome-ignore lint/a11y/noAutofocus: the prompt is the whole page; the key is all it asks for
            autoFocus
            value={key}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
            aria-describedby={problem ? 'api-key-help api-key-problem' : 'api-key-help'}
            aria-invalid={problem !== undefined}
          />
        </div>
        {problem && (
          <p id="api-key-problem" class="field-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          Use this key
        </button>
      </form>
    </div>
  );
}
