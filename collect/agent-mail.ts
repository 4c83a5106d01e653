#!/usr/bin/env -S node --import tsx
// Collector `agent-mail`: mcp_agent_mail's messages, read/ack times and file reservations, from its SQLite store.
// Usage: tsx collect/agent-mail.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { agentMailCollector } from '../lib/sources/agent-mail.ts';

await collectorMain(agentMailCollector);
