/**
 * Records the process-wide outcomes a library must not leave behind (unhandled rejections) or
 * only falls back on (process warnings), for the duration of a test.
 */
export interface ProcessWatch {
  readonly unhandled: unknown[];
  readonly warnings: Error[];
  /** Stops recording. */
  stop(): void;
}

export function watchProcess(): ProcessWatch {
  const unhandled: unknown[] = [];
  const warnings: Error[] = [];
  const onRejection = (reason: unknown): void => void unhandled.push(reason);
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('unhandledRejection', onRejection);
  process.on('warning', onWarning);
  return {
    unhandled,
    warnings,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('warning', onWarning);
    },
  };
}
