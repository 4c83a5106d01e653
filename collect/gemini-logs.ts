#!/usr/bin/env -S node --import tsx
// Collector `gemini-logs`: Gemini CLI chat logs (JSONL and legacy JSON), read incrementally: per-message token usage.
// Usage: tsx collect/gemini-logs.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { geminiLogsCollector } from '../lib/sources/gemini-logs.ts';

await collectorMain(geminiLogsCollector);
