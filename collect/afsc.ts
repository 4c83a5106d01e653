#!/usr/bin/env -S node --import tsx
// Collector `afsc`: automated_flywheel_setup_checker's latest run, per installer status and classified error.
// Usage: tsx collect/afsc.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { afscCollector } from '../lib/sources/afsc.ts';

await collectorMain(afscCollector);
