import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfiguration } from './src/config/configuration.js';
import { buildDataSourceOptions } from './src/database/data-source-options.js';
import { embeddedDatabaseUrl } from './src/database/database-server.js';

// The TypeORM CLI's DataSource (npm run migration:run), built by the same function the app uses.
// Without DATABASE_URL it targets the development embedded server, which `npm start` runs.
const configuration = loadConfiguration();
const url = configuration.database.url ?? embeddedDatabaseUrl(configuration);

export default new DataSource(buildDataSourceOptions(url, 2));
