import { InitialSchema1764230400000 } from './1764230400000-InitialSchema.js';

/** Every migration, in order; listed explicitly so the compiled app and the CLI load the same set. */
export const migrations = [InitialSchema1764230400000];
