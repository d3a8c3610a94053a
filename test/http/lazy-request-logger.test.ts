import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.js';
import { lazyRequestLogger } from '../../src/http/lazy-request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, root: createLogger({ logLevel: 'info' }, stream) };
}

describe('request loggers made on first use', () => {
  it("write with the request's id, through the root's redaction; a disabled level writes nothing", () => {
    const { lines, root } = capture();
    const log = lazyRequestLogger(root as unknown as FastifyBaseLogger, { reqId: 'req-7' }, {});
    expect(log.level).toBe('info');
    log.debug({ detail: 1 }, 'not written');
    expect(lines).toHaveLength(0);
    log.error({ password: 'hunter2', err: { message: 'boom' } }, 'unhandled error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'req-7', msg: 'unhandled error', password: '[redacted]', service: 'rampart' });
    log.child({ step: 'inner' }).warn('from a child');
    expect(lines[1]).toMatchObject({ reqId: 'req-7', step: 'inner', msg: 'from a child' });
  });

  it('honour a level of their own', () => {
    const { lines, root } = capture();
    const log = lazyRequestLogger(root as unknown as FastifyBaseLogger, { reqId: 'req-8' }, { level: 'warn' });
    expect(log.level).toBe('warn');
    log.info('not at warn');
    log.warn('at warn');
    expect(lines.map((l) => l.msg)).toEqual(['at warn']);
  });
});
