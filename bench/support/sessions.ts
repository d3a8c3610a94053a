import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { openStore } from '../../src/store/database.js';

/**
 * Stores `count` finished sessions (one a minute, every seventh Failed) straight into the
 * database a Rampart will open, their types taken in turn from `types`.
 */
export async function seedSessions(dataDir: string, count: number, types: string[] = ['RepositoryMaintenance', 'Infrastructure']): Promise<void> {
  const store = await openStore(`sqlite:${path.join(dataDir, 'rampart.sqlite')}`);
  const base = Date.now() - count * 60_000;
  for (let start = 0; start < count; start += 500) {
    const rows = Array.from({ length: Math.min(500, count - start) }, (_, k) => {
      const i = start + k;
      const id = randomUUID();
      return {
        id,
        name: `Session ${i}`,
        activity_id: id,
        session_type: types[i % types.length]!,
        state: 'Stopped',
        creation_time: new Date(base + i * 60_000).toISOString(),
        end_time: new Date(base + i * 60_000 + 30_000).toISOString(),
        progress_percent: 100,
        result: i % 7 === 0 ? 'Failed' : 'Success',
        result_message: i % 7 === 0 ? 'Something went wrong' : null,
        is_canceled: 0,
        resource_id: null,
        resource_reference: null,
        parent_session_id: null,
        usn: 3,
        node_id: 'bench',
        created_by: 'bench',
      };
    });
    await store.db.insertInto('sessions').values(rows).execute();
  }
  await store.close();
}
