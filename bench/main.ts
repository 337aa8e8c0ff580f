// npm run bench: every benchmark, each printing a table with ratios against a baseline measured in the same run.
// `npm run bench -- --quick` runs shorter versions.
import { runCoreBench } from './core.js';
import { runHandshakeBench } from './handshake.js';
import { runLabBench } from './lab.js';
import { runNodeBench } from './node.js';
import { runReplayBench } from './replay.js';
import { runSimBench } from './sim.js';
import { runTunBench } from './tun.js';

const quick = process.argv.includes('--quick');
runCoreBench(quick);
runHandshakeBench(quick);
runSimBench(quick);
runLabBench(quick);
runReplayBench(quick);
await runNodeBench(quick);
await runTunBench(quick);
