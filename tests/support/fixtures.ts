/** Files the tests read, kept in tests/fixtures so a fresh clone has them. */
import { fileURLToPath } from 'node:url';

export const GPX_FIXTURE = fileURLToPath(new URL('../fixtures/tracks/around-visnjan-with-car.gpx', import.meta.url));
