#!/usr/bin/env -S node --import tsx
// Collector `ntm`: tmux sessions and agents with their state (ntm --robot-status/--robot-snapshot), and ntm's events.jsonl.
// Usage: tsx collect/ntm.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { ntmCollector } from '../lib/sources/ntm.ts';

await collectorMain(ntmCollector);
