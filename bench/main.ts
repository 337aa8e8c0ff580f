// npm run bench: every benchmark, each printing a table with ratios against a baseline measured in the same run.
// `npm run bench -- --quick` runs shorter versions.
import { runCoreBench } from './core.js';

const quick = process.argv.includes('--quick');
runCoreBench(quick);
