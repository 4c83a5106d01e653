#!/usr/bin/env -S node --import tsx
// Collector `pt`: pt robot plan's findings (abandoned, stuck, runaway processes) and its recommended actions.
// Usage: tsx collect/pt.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { ptCollector } from '../lib/sources/pt.ts';

await collectorMain(ptCollector);
