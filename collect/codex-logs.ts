#!/usr/bin/env -S node --import tsx
// Collector `codex-logs`: Codex CLI session logs, read incrementally: cumulative token counts, models, server-side rate limits.
// Usage: tsx collect/codex-logs.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { codexLogsCollector } from '../lib/sources/codex-logs.ts';

await collectorMain(codexLogsCollector);
