// The soak runner: many connections with randomized workloads over a simulated network, invariants checked
// continuously; seeds swept across worker threads.
export { networkFor } from './runner.js';
export { runSoak } from './determinism.js';
export type { SoakOptions, SoakResult, SoakProgress, SoakFaults, Violation, ViolationKind } from './types.js';
export { WORKLOADS, type WorkloadName } from './workload.js';
export { quantile, merge as mergeHistogram, newHistogram, type Histogram } from './histogram.js';
