#!/usr/bin/env -S node --import tsx
// Collector `rano`: agents' network connections from rano's SQLite store, read by row id.
// Usage: tsx collect/rano.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { ranoCollector } from '../lib/sources/rano.ts';

await collectorMain(ranoCollector);
