#!/usr/bin/env -S node --import tsx
// Collector `rch`: rch status (daemon, workers, queue, builds, alerts, hints), rchd's build history, its /metrics where configured.
// Usage: tsx collect/rch.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { rchCollector } from '../lib/sources/rch.ts';

await collectorMain(rchCollector);
