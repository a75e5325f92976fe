/**
 * The worker: serves start and stop from the page (main.ts) and runs trainDigits for each
 * start. The result's weights are moved to the page rather than copied.
 */
import { serveTraining } from '../../src/index.js';
import { trainDigits, type Result } from './train.js';

serveTraining(trainDigits, { transfer: (r: Result) => [r.weights.buffer] });
