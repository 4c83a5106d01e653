#!/usr/bin/env -S node --import tsx
// Collector `sysmoni`: one sample of sysmoni's stream (CPU, load, memory, IO and network rates, GPUs, temperatures, top processes).
// Usage: tsx collect/sysmoni.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { sysmoniCollector } from '../lib/sources/sysmoni.ts';

await collectorMain(sysmoniCollector);
