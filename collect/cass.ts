#!/usr/bin/env -S node --import tsx
// Collector `cass`: search index health and freshness, conversations by agent and workspace, sessions per hour (cass health/stats/timeline).
// Usage: tsx collect/cass.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { cassCollector } from '../lib/sources/cass.ts';

await collectorMain(cassCollector);
