import { z } from 'zod';

/**
 * The build-time environment (Vite `VITE_*` variables), checked once at
 * start-up: a wrong value stops the app with a message naming it rather than
 * failing later somewhere else.
 */
const schema = z.object({
  /** Origin of the edge; empty (the default) means the page's own origin. */
  VITE_API_BASE_URL: z
    .string()
    .trim()
    .default('')
    .refine((value) => value === '' || /^https?:\/\/[^/]+$/.test(value), {
      message: 'an origin such as http://127.0.0.1:8080 (no path, no trailing slash), or empty',
    }),
  /** Per-request timeout in milliseconds. */
  VITE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120000).default(15000),
  /** Attempts for an idempotent request that fails transiently (1 = no retry). */
  VITE_REQUEST_ATTEMPTS: z.coerce.number().int().min(1).max(6).default(3),
});

export type Env = {
  apiBaseUrl: string;
  requestTimeoutMs: number;
  requestAttempts: number;
};

export class EnvError extends Error {
  override name = 'EnvError';
}

export function parseEnv(source: Record<string, unknown>): Env {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new EnvError(`Invalid environment: ${problems}`);
  }
  return {
    apiBaseUrl: result.data.VITE_API_BASE_URL,
    requestTimeoutMs: result.data.VITE_REQUEST_TIMEOUT_MS,
    requestAttempts: result.data.VITE_REQUEST_ATTEMPTS,
  };
}

let current: Env | undefined;

/** Validates `import.meta.env`; called first thing in `main.tsx`. */
export function loadEnv(source: Record<string, unknown> = import.meta.env): Env {
  current = parseEnv(source);
  return current;
}

export function env(): Env {
  current ??= parseEnv(import.meta.env);
  return current;
}
