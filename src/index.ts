// stevens: the package entry. The sans-IO core is also available alone as 'stevens/core'.
export * from './core/index.js';
export * from './node/index.js';
