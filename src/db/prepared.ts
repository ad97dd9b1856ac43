// Hot queries built once: a Drizzle query prepared under a name is turned into SQL once per
// database handle (and parsed by PostgreSQL once per connection), then only executed. Building
// the same query on every request showed as a quarter of the busiest route's CPU.
import type { Executor, Queryable } from './connect.ts';
import { executorOf } from './connect.ts';

const byExecutor = new WeakMap<Executor, Map<string, unknown>>();

/**
 * The query `build` prepares under `name`, for this database or transaction handle: built the
 * first time, reused afterwards. `build` must give the same query for the same name.
 */
export function preparedOnce<T>(db: Queryable, name: string, build: (executor: Executor, name: string) => T): T {
  const executor = executorOf(db);
  let queries = byExecutor.get(executor);
  if (!queries) {
    queries = new Map();
    byExecutor.set(executor, queries);
  }
  let query = queries.get(name) as T | undefined;
  if (query === undefined) {
    query = build(executor, name);
    queries.set(name, query);
  }
  return query;
}
