import { errorMessage } from '../api/api-error.js';

/** An error said out loud (role=alert) and shown, or nothing. */
export function ErrorAlert({ error, context }: { error: unknown; context?: string }) {
  if (error === undefined || error === null) return null;
  return (
    <p class="alert" role="alert">
      {context ? `${context}: ` : ''}
      {errorMessage(error)}
    </p>
  );
}
