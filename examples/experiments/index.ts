import type { Experiment } from './types.js';
import { geometry } from './geometry.js';
import { adamw } from './adamw.js';
import { dropoutMean } from './dropout.js';
import { dropoutL2 } from './dropout-l2.js';
import { priors } from './priors.js';
import { lassoPath } from './lasso-path.js';
import { digits } from './digits.js';
import { gptNames } from './gpt-names-experiment.js';
import { shakespeare } from './shakespeare.js';

/** The experiments of `npm start`, in the order the lesson tells them. */
export const experiments: Experiment[] = [priors, lassoPath, geometry, adamw, dropoutMean, dropoutL2, digits, gptNames, shakespeare];
