// Diagnostics go to stderr (stdout carries data only), without colour when stderr is not a TTY.
// consola is loaded on first use: most commands print no diagnostics, and startup time counts.
import type { ConsolaInstance } from 'consola';

let instance: ConsolaInstance | undefined;

async function consola(): Promise<ConsolaInstance> {
  if (!instance) {
    const { createConsola } = await import('consola');
    instance = createConsola({
      stdout: process.stderr,
      stderr: process.stderr,
      fancy: process.stderr.isTTY === true,
      formatOptions: { colors: process.stderr.isTTY === true && !process.env.NO_COLOR, date: false },
    });
  }
  return instance;
}

export const log = {
  info: async (msg: string) => (await consola()).info(msg),
  success: async (msg: string) => (await consola()).success(msg),
  warn: async (msg: string) => (await consola()).warn(msg),
  error: async (msg: string) => (await consola()).error(msg),
};
