// The soak runner: many connections with randomized workloads over a simulated network, invariants checked
// continuously; seeds swept across worker threads.
export { runSoak, networkFor } from './runner.js';
export type { SoakOptions, SoakResult, SoakProgress, Violation, ViolationKind } from './types.js';
export { WORKLOADS, type WorkloadName } from './workload.js';
export { quantile, merge as mergeHistogram, newHistogram, type Histogram } from './histogram.js';
