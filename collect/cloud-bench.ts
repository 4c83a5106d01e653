#!/usr/bin/env -S node --import tsx
// Collector `cloud-bench`: cloud_benchmarker's benchmark scores (raw subscores and overall), read from its SQLite store.
// Usage: tsx collect/cloud-bench.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { cloudBenchCollector } from '../lib/sources/cloud-bench.ts';

await collectorMain(cloudBenchCollector);
