import { defineCommand } from 'citty';
export default defineCommand({ meta: { name: 'cron', description: 'Install the schedule (crontab or systemd timer)' }, run() { throw new Error('not wired yet'); } });
