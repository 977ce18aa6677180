import fc from 'fast-check';

// Every property in the faults suite is reproducible: one fixed seed unless a test names its own.
fc.configureGlobal({ seed: 0x0c11f5, numRuns: 1000 });
