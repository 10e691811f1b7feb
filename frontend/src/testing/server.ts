import { setupServer } from 'msw/node';

import { defaultHandlers } from './handlers';

/** One MSW server for the whole suite; tests add handlers with `server.use(...)`. */
export const server = setupServer(...defaultHandlers);
