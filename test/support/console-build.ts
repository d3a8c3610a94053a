// Vitest global setup: builds the web console once before any test file starts a server,
// exactly as `npm start` does (scripts/build-console.mjs), so tests serve the real bundle.
// @ts-expect-error plain ES module script without type declarations
import { buildConsole } from '../../scripts/build-console.mjs';

export default async function setup(): Promise<void> {
  await buildConsole();
}
