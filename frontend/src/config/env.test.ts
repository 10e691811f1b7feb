import { describe, expect, it } from 'vitest';

import { EnvError, parseEnv } from './env';

describe('parseEnv', () => {
  it('fills in defaults', () => {
    expect(parseEnv({})).toEqual({ apiBaseUrl: '', requestTimeoutMs: 15000, requestAttempts: 3 });
  });

  it('accepts an origin and numbers given as strings', () => {
    expect(parseEnv({ VITE_API_BASE_URL: 'http://127.0.0.1:8080', VITE_REQUEST_TIMEOUT_MS: '5000', VITE_REQUEST_ATTEMPTS: '1' })).toEqual({
      apiBaseUrl: 'http://127.0.0.1:8080',
      requestTimeoutMs: 5000,
      requestAttempts: 1,
    });
  });

  it('names each bad variable', () => {
    expect(() => parseEnv({ VITE_API_BASE_URL: 'http://x/api/', VITE_REQUEST_ATTEMPTS: '50' })).toThrow(EnvError);
    expect(() => parseEnv({ VITE_API_BASE_URL: 'ftp://x' })).toThrow(/VITE_API_BASE_URL/);
    expect(() => parseEnv({ VITE_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(/VITE_REQUEST_TIMEOUT_MS/);
  });
});
