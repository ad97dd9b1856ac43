// drizzle-kit writes new migrations from src/db/schema.ts: `npm run db:generate -- --name <what>`.
// Review each generated file: MovR's migrations must stay CockroachDB-compatible (see src/db/migrate.ts).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './src/db/migrations',
});
