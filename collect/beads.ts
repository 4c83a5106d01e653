#!/usr/bin/env -S node --import tsx
// Collector `beads`: per repository with a .beads/ tracker, br ready/list and bv triage, plan and insights.
// Usage: tsx collect/beads.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { beadsCollector } from '../lib/sources/beads.ts';

await collectorMain(beadsCollector);
