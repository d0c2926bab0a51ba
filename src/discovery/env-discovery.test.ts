/** The env discovery method: what `MCP_<NAME>_URL` and its companions declare, and what they refuse. */
import { describe, expect, it } from 'vitest';
import { EnvDiscovery, mcpsFromEnv } from './env-discovery.js';

describe('mcpsFromEnv', () => {
  it("declares an MCP per MCP_<NAME>_URL and leaves the seed's other variables alone", () => {
    const env = {
      MCP_API_KEY: 'your-api-key-here',
      MAIN_PLATFORM_URL: 'https://api.paestro.com',
      TEXTBEE_API_KEY: 'your-textbee-key',
      MCP_MAIN_PLATFORM_URL: 'https://api.paestro.com/mcp',
      MCP_MAIN_PLATFORM_TOOLS: 'get_contact, send_sms',
      MCP_MAIN_PLATFORM_CAPABILITIES: 'contacts',
      MCP_MAIN_PLATFORM_HEADERS: '{"X-API-Key":"k"}',
      MCP_SMS_URL: 'http://127.0.0.1:4000/mcp',
      MCP_SMS_PROTOCOL: 'streamable-http',
    };
    expect(mcpsFromEnv(env)).toEqual({
      'main-platform': {
        endpoints: {
          primary: { protocol: 'http', url: 'https://api.paestro.com/mcp', headers: { 'X-API-Key': 'k' } },
        },
        tools: ['get_contact', 'send_sms'],
        capabilities: ['contacts'],
      },
      sms: { endpoints: { primary: { protocol: 'streamable-http', url: 'http://127.0.0.1:4000/mcp' } } },
    });
    expect(new EnvDiscovery({ env: {} }).discoverMcps()).toEqual({});
  });

  it('names every variable that is wrong', () => {
    const bad = {
      MCP_A_URL: 'ftp://x',
      MCP_B_URL: 'http://b',
      MCP_B_PROTOCOL: 'stdio',
      MCP_C_URL: 'http://c',
      MCP_C_HEADERS: '{"X": 1}',
      MCP_D_URL: 'http://d',
      MCP_D_HEADERS: '{nope',
    };
    expect(() => mcpsFromEnv(bad)).toThrow(
      [
        "MCP_A_URL: expected an http(s) URL, got 'ftp://x'",
        "MCP_B_PROTOCOL: expected one of http, streamable-http, got 'stdio'",
        "MCP_C_HEADERS: expected a string for header 'X'",
        'MCP_D_HEADERS: expected a JSON object of header names to strings, got invalid JSON',
      ].join('; '),
    );
  });
});

describe('EnvDiscovery.adjust', () => {
  const definition = {
    name: 'main-platform',
    source: 'file',
    endpoints: [{ name: 'primary', protocol: 'http', url: 'https://old.example/mcp', headers: {} }],
    fingerprint: 'old',
  } as never;

  it('replaces the primary url from <NAME>_URL, with a new fingerprint, and leaves others alone', () => {
    const env = new EnvDiscovery({ env: { MAIN_PLATFORM_URL: 'https://new.example/mcp' } });
    const adjusted = env.adjust(definition);
    expect(adjusted).toMatchObject({ source: 'file', endpoints: [{ url: 'https://new.example/mcp' }] });
    expect(adjusted.fingerprint).not.toBe('old');
    expect(new EnvDiscovery({ env: {} }).adjust(definition)).toBe(definition);
  });

  it('refuses a <NAME>_URL that is not an http(s) URL, naming it', () => {
    expect(() => new EnvDiscovery({ env: { MAIN_PLATFORM_URL: 'nope' } }).adjust(definition)).toThrow(
      "MAIN_PLATFORM_URL: expected an http(s) URL, got 'nope'",
    );
    // As in the registry file: credentials belong in headers, where they are redacted.
    const withSecret = new EnvDiscovery({ env: { MAIN_PLATFORM_URL: 'https://u:secret@new.example/mcp' } });
    expect(() => withSecret.adjust(definition)).toThrow(
      'MAIN_PLATFORM_URL: must not carry credentials (user:password@); put them in headers',
    );
    expect(() => withSecret.adjust(definition)).not.toThrow(/secret/);
  });
});
