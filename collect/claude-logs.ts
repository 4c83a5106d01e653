#!/usr/bin/env -S node --import tsx
// Collector `claude-logs`: Claude Code session logs, read incrementally: per-message token usage (no transcript text).
// Usage: tsx collect/claude-logs.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { claudeLogsCollector } from '../lib/sources/claude-logs.ts';

await collectorMain(claudeLogsCollector);
