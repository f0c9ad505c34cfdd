/** Entry point of `npm run migrate` (server/migrate/migrate-command.ts). */
import { migrate } from './migrate-command.ts';

process.exitCode = await migrate(process.argv.slice(2));
